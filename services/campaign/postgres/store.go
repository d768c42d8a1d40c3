// Package postgres is the campaign service's Store on PostgreSQL, through gorm and pgx. It is the
// only package of the service that imports them: gorm types stay here, and driver errors become
// apperr errors (for what a caller may see) or wrapped internal errors before they leave.
//
// The schema is versioned SQL migrations embedded in the binary (pressly/goose); Open applies
// them. Money columns are NUMERIC(20,0) so every uint64 survives exactly, and they are read back
// as text and parsed with strconv, never through a float.
package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/solcrowd/backend/libs/apperr"
	"github.com/solcrowd/backend/services/campaign/campaigns"
	gormpg "gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

var _ campaigns.Store = (*Store)(nil)

// Store is the Postgres implementation of campaigns.Store. It is safe for concurrent use, and
// several processes may share one database.
type Store struct {
	db  *gorm.DB
	sql *sql.DB
	log *slog.Logger
}

// Options tunes Open.
type Options struct {
	MaxConns int // pool size; default 10
	// CreateDatabase creates the URL's database when it does not exist (development convenience).
	CreateDatabase bool
	// SkipMigrate leaves the schema as it is (migration tests drive it with MigrateTo).
	SkipMigrate bool
}

// Open connects to dsn, optionally creates the database, and applies every pending migration.
// Several replicas may call it at once: migrations run under a Postgres advisory lock.
func Open(ctx context.Context, dsn string, log *slog.Logger, o Options) (*Store, error) {
	if o.MaxConns <= 0 {
		o.MaxConns = 10
	}
	if o.CreateDatabase {
		if err := createDatabase(ctx, dsn); err != nil {
			return nil, err
		}
	}
	db, err := gorm.Open(gormpg.New(gormpg.Config{DSN: dsn}), &gorm.Config{
		TranslateError:         true,
		SkipDefaultTransaction: true,
		Logger:                 logger.Discard,
		NowFunc:                func() time.Time { return time.Now().UTC() },
	})
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	sqlDB.SetMaxOpenConns(o.MaxConns)
	sqlDB.SetMaxIdleConns(o.MaxConns)
	sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	s := &Store{db: db, sql: sqlDB, log: log}
	if err := s.waitReady(ctx); err != nil {
		_ = sqlDB.Close()
		return nil, err
	}
	if !o.SkipMigrate {
		if err := s.Migrate(ctx); err != nil {
			_ = sqlDB.Close()
			return nil, err
		}
	}
	return s, nil
}

// waitReady pings until the server answers (it may still be starting) or 30 seconds pass.
func (s *Store) waitReady(ctx context.Context) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := s.sql.PingContext(ctx)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("database not reachable: %w", err)
		}
		s.log.Warn("database not reachable yet, retrying", "err", err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// createDatabase creates the database named in dsn when the server says it does not exist.
func createDatabase(ctx context.Context, dsn string) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err == nil {
		return conn.Close(ctx)
	}
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "3D000" {
		return nil // not "database does not exist": let the normal path report it
	}
	u, perr := url.Parse(dsn)
	if perr != nil {
		return fmt.Errorf("database url: %w", perr)
	}
	name := strings.TrimPrefix(u.Path, "/")
	u.Path = "/postgres"
	admin, err := pgx.Connect(ctx, u.String())
	if err != nil {
		return fmt.Errorf("create database %s: %w", name, err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		var e *pgconn.PgError
		if errors.As(err, &e) && e.Code == "42P04" { // created meanwhile by another replica
			return nil
		}
		return fmt.Errorf("create database %s: %w", name, err)
	}
	return nil
}

// Close closes the pool.
func (s *Store) Close() error { return s.sql.Close() }

// Ping checks the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.sql.PingContext(ctx) }

// tx runs fn in a transaction, retrying a few times when Postgres aborts it for a deadlock or a
// serialization failure (both are safe to retry: nothing committed).
func (s *Store) tx(ctx context.Context, fn func(tx *gorm.DB) error) error {
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		err = s.db.WithContext(ctx).Transaction(fn)
		if !retryable(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(time.Duration(attempt+1) * 10 * time.Millisecond):
		}
	}
	return err
}

func retryable(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (pgErr.Code == "40001" || pgErr.Code == "40P01")
}

// translate turns what the driver said into the service's vocabulary. Constraint and data
// violations mean the input can never be stored (invalid); everything else is infrastructure.
func translate(err error, what string) error {
	if err == nil {
		return nil
	}
	var ae *apperr.Error
	if errors.As(err, &ae) {
		return err
	}
	switch {
	case errors.Is(err, gorm.ErrRecordNotFound):
		return apperr.NotFoundf("%s not found", what)
	case errors.Is(err, gorm.ErrCheckConstraintViolated), errors.Is(err, gorm.ErrForeignKeyViolated):
		return &apperr.Error{Code: apperr.Invalid, Message: what + " breaks a database rule"}
	}
	// Raw statements reach us untranslated by gorm: classify by SQLSTATE.
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case pgErr.Code == "23514", pgErr.Code == "23503":
			return &apperr.Error{Code: apperr.Invalid, Message: what + " breaks a database rule"}
		case strings.HasPrefix(pgErr.Code, "22"): // data exception, e.g. numeric overflow
			return &apperr.Error{Code: apperr.Invalid, Message: what + " has a value out of range"}
		}
	}
	return fmt.Errorf("%s: %w", what, err)
}

// IsPermanent reports whether err means the input can never be applied (retrying is useless).
func IsPermanent(err error) bool { return apperr.CodeOf(err) == apperr.Invalid }
