package pgtest_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/solcrowd/backend/libs/pgtest"
)

// Two parallel tests each get their own database: a table made in one is not in the other.
func TestParallelTestsGetSeparateDatabases(t *testing.T) {
	names := make(chan string, 2)
	for _, tc := range []string{"a", "b"} {
		t.Run(tc, func(t *testing.T) {
			t.Parallel()
			url := pgtest.NewDatabase(t, "")
			ctx := context.Background()
			conn, err := pgx.Connect(ctx, url)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close(ctx)
			if _, err := conn.Exec(ctx, "CREATE TABLE only_"+tc+" (x int)"); err != nil {
				t.Fatal(err)
			}
			var db string
			if err := conn.QueryRow(ctx, "SELECT current_database()").Scan(&db); err != nil {
				t.Fatal(err)
			}
			var n int
			other := map[string]string{"a": "only_b", "b": "only_a"}[tc]
			if err := conn.QueryRow(ctx, "SELECT count(*) FROM information_schema.tables WHERE table_name = $1", other).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != 0 {
				t.Errorf("database %s sees the other test's table", db)
			}
			names <- db
		})
	}
	t.Cleanup(func() {
		close(names)
		a, b := <-names, <-names
		if a == b || a == "" {
			t.Errorf("databases not distinct: %q %q", a, b)
		}
	})
}

func TestDatabaseIsDroppedAfterTheTest(t *testing.T) {
	var name string
	t.Run("inner", func(t *testing.T) {
		url := pgtest.NewDatabase(t, "")
		conn, err := pgx.Connect(context.Background(), url)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(context.Background())
		if err := conn.QueryRow(context.Background(), "SELECT current_database()").Scan(&name); err != nil {
			t.Fatal(err)
		}
	})
	conn, err := pgx.Connect(context.Background(), pgtest.AdminURL())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int
	if err := conn.QueryRow(context.Background(), "SELECT count(*) FROM pg_database WHERE datname = $1", name).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("database %s still exists", name)
	}
}
