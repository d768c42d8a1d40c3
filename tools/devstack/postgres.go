package main

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/solcrowd/backend/libs/config"
)

const (
	defaultDatabaseURL = "postgres://postgres@127.0.0.1:5432/solcrowd?sslmode=disable"
	simDatabase        = "solcrowd_sim"
)

// preparePostgres returns the database URL the services should use, creating the database when
// it is missing. In simulator mode, with no DATABASE_URL given, it recreates a dedicated database
// (solcrowd_sim) so the ledger starts as empty as the simulated chain.
func preparePostgres(ctx context.Context, raw string, simMode bool) (string, error) {
	recreate := false
	if raw == "" {
		raw = defaultDatabaseURL
		if simMode {
			u, _ := url.Parse(raw)
			u.Path = "/" + simDatabase
			raw = u.String()
			recreate = true
		}
	}
	dbURL, err := config.NormalizeDatabaseURL(raw)
	if err != nil {
		return "", fmt.Errorf("DATABASE_URL: %w", err)
	}
	u, err := url.Parse(dbURL)
	if err != nil {
		return "", err
	}
	name := strings.TrimPrefix(u.Path, "/")
	admin := *u
	admin.Path = "/postgres"
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(cctx, admin.String())
	if err != nil {
		return "", fmt.Errorf(`no PostgreSQL answers at %s: %v
  start the local server:  sudo pg_ctlcluster $(ls /etc/postgresql) main start
  or install it:           sudo apt-get install -y postgresql
  or set DATABASE_URL to a server you have (postgres://user:pass@host:5432/db)`, config.RedactURL(admin.String()), err)
	}
	defer conn.Close(ctx)
	if recreate {
		// Another `make run` on this machine may be using the simulator database; dropping it
		// under that one would break it. A crashed one leaves no sessions behind.
		var sessions int
		if err := conn.QueryRow(cctx, "SELECT count(*) FROM pg_stat_activity WHERE datname = $1", name).Scan(&sessions); err != nil {
			return "", err
		}
		if sessions > 0 {
			return "", fmt.Errorf("database %s has %d open sessions: another make run is probably using it; stop it, or set DATABASE_URL to another database", name, sessions)
		}
		if _, err := conn.Exec(cctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			return "", fmt.Errorf("reset database %s: %w", name, err)
		}
	}
	var exists bool
	if err := conn.QueryRow(cctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return "", err
	}
	if !exists {
		if _, err := conn.Exec(cctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
			return "", fmt.Errorf("create database %s: %w", name, err)
		}
	}
	return dbURL, nil
}
