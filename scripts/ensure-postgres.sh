#!/usr/bin/env bash
# Sourced by scripts/test.sh. Makes sure a PostgreSQL server answers and exports TEST_DATABASE_URL:
#   1. TEST_DATABASE_URL if it is set and answers;
#   2. the local server on 127.0.0.1:5432 (started with pg_ctlcluster when installed but stopped);
#   3. otherwise a private throwaway server (initdb in .pgtmp, port 55432, trust auth) from the
#      installed PostgreSQL binaries, stopped when the tests end.
# Without any PostgreSQL binaries it says how to install them and fails.

pg_answers() { # $1: URL
  if command -v psql >/dev/null 2>&1; then
    psql "$1" -Atqc 'select 1' >/dev/null 2>&1
  else
    # Without psql, fall back to a TCP check of host:port.
    local hp=${1#*@}; hp=${hp%%/*}; local h=${hp%%:*} p=${hp##*:}
    [ "$h" = "$p" ] && p=5432
    (exec 3<>"/dev/tcp/$h/$p") 2>/dev/null
  fi
}

if [ -n "${TEST_DATABASE_URL:-}" ] && pg_answers "$TEST_DATABASE_URL"; then
  echo "postgres: using TEST_DATABASE_URL"
  return 0 2>/dev/null || exit 0
fi

DEFAULT_URL="postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
# PG_PRIVATE=1 skips the local server and always starts the private one (used to test this script).
if [ "${PG_PRIVATE:-0}" != 1 ] && pg_answers "$DEFAULT_URL"; then
  export TEST_DATABASE_URL="$DEFAULT_URL"
  echo "postgres: using the local server on 127.0.0.1:5432"
  return 0 2>/dev/null || exit 0
fi

if [ "${PG_PRIVATE:-0}" != 1 ] && command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ] && [ "$(id -u)" = 0 ]; then
  for v in $(ls /etc/postgresql 2>/dev/null); do
    pg_ctlcluster --skip-systemctl-redirect "$v" main start >/dev/null 2>&1 || true
  done
  for _ in $(seq 1 30); do pg_answers "$DEFAULT_URL" && break; sleep 0.5; done
  if pg_answers "$DEFAULT_URL"; then
    export TEST_DATABASE_URL="$DEFAULT_URL"
    echo "postgres: started the local cluster"
    return 0 2>/dev/null || exit 0
  fi
fi

PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
if [ -z "$PGBIN" ] && command -v initdb >/dev/null 2>&1; then PGBIN=$(dirname "$(command -v initdb)"); fi
if [ -z "$PGBIN" ]; then
  echo "postgres: no server answers and no PostgreSQL binaries are installed." >&2
  echo "  install them with:  sudo apt-get install -y postgresql   (Debian/Ubuntu)" >&2
  echo "  or point TEST_DATABASE_URL at a server you have." >&2
  return 1 2>/dev/null || exit 1
fi

PGTMP="$(pwd)/.pgtmp"
PGPORT=55432
rm -rf "$PGTMP"; mkdir -p "$PGTMP"
RUNAS=()
if [ "$(id -u)" = 0 ]; then
  # initdb refuses to run as root: run the private server as the postgres user (or nobody).
  user=postgres; id "$user" >/dev/null 2>&1 || user=nobody
  chown -R "$user" "$PGTMP"
  RUNAS=(runuser -u "$user" --)
fi
"${RUNAS[@]}" "$PGBIN/initdb" -D "$PGTMP/data" -U postgres --auth=trust >/dev/null
"${RUNAS[@]}" "$PGBIN/pg_ctl" -D "$PGTMP/data" -o "-p $PGPORT -k $PGTMP -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=off" -l "$PGTMP/log" -w start >/dev/null
export TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$PGPORT/postgres?sslmode=disable"
trap '"${RUNAS[@]}" "$PGBIN/pg_ctl" -D "$PGTMP/data" -m immediate stop >/dev/null 2>&1; rm -rf "$PGTMP"' EXIT
echo "postgres: started a private throwaway server on port $PGPORT"
