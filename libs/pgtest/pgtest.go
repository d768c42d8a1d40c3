// Package pgtest gives each test its own fresh database on a real PostgreSQL server, dropped when
// the test ends. The server is the admin URL the caller passes, else TEST_DATABASE_URL, else
// postgres://postgres@127.0.0.1:5432/postgres. It is test-only code: reading TEST_DATABASE_URL
// here is what lets `make test` point every package at a private throwaway server.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultAdminURL is the server used when no other is given.
const DefaultAdminURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// NewDatabase creates a database with a unique name on the server at adminURL (DefaultAdminURL
// when empty) and returns its URL. The database is dropped, with any open connections, when the
// test ends. Tests running in parallel always get different databases.
func NewDatabase(t testing.TB, adminURL string) string {
	t.Helper()
	if adminURL == "" {
		adminURL = AdminURL()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	name, dbURL, err := Create(ctx, adminURL, "t")
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := Drop(ctx, adminURL, name); err != nil {
			t.Errorf("pgtest: drop %s: %v", name, err)
		}
	})
	return dbURL
}

// AdminURL returns TEST_DATABASE_URL when set, else DefaultAdminURL.
func AdminURL() string {
	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		return u
	}
	return DefaultAdminURL
}

// Create makes a new, empty database named "<prefix>_<random>" and returns its name and URL.
func Create(ctx context.Context, adminURL, prefix string) (name, dbURL string, err error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", "", err
	}
	name = strings.ToLower(prefix + "_" + hex.EncodeToString(b[:]))
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return "", "", fmt.Errorf("connect to %s: %w (is PostgreSQL running? see README)", Redact(adminURL), err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return "", "", fmt.Errorf("create database %s: %w", name, err)
	}
	u, err := url.Parse(adminURL)
	if err != nil {
		return "", "", err
	}
	u.Path = "/" + name
	return name, u.String(), nil
}

// Drop removes a database, terminating its connections first.
func Drop(ctx context.Context, adminURL, name string) error {
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
	return err
}

// Redact hides a password in a database URL.
func Redact(dbURL string) string {
	u, err := url.Parse(dbURL)
	if err != nil {
		return "<unparseable url>"
	}
	return u.Redacted()
}
