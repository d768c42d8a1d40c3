// Package apperr is the project's one error vocabulary. Every service returns *Error values with a
// small, stable set of codes; the gateway maps codes to HTTP statuses in one place; and request/reply
// carries them across NATS unchanged. Messages in an *Error are safe to show to clients: internal
// details belong in logs, never in Message.
package apperr

import (
	"errors"
	"fmt"
)

// Code is a stable, machine-readable error class. Clients may switch on it.
type Code string

// The codes. Keep this list short: a new code is a contract change for every client.
const (
	Invalid      Code = "invalid"      // the request is malformed or breaks a rule; nothing changed
	NotFound     Code = "not_found"    // the named thing does not exist
	Conflict     Code = "conflict"     // the request clashes with current state (e.g. an open campaign already exists)
	Unauthorized Code = "unauthorized" // missing or wrong credentials
	RateLimited  Code = "rate_limited" // the caller must slow down
	Unavailable  Code = "unavailable"  // a dependency is down; retrying later may succeed
	Internal     Code = "internal"     // a bug or an unexpected failure; details are only in the logs
)

// Known reports whether c is one of the codes above.
func (c Code) Known() bool {
	switch c {
	case Invalid, NotFound, Conflict, Unauthorized, RateLimited, Unavailable, Internal:
		return true
	}
	return false
}

// Error is an error with a code, a client-safe message and, for invalid input, the name of the
// offending field (as the client spelled it, e.g. "goal_amount").
type Error struct {
	Code    Code   `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s: %s: %s", e.Code, e.Field, e.Message)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Is makes errors.Is(err, &Error{Code: X}) match any *Error with code X, so callers can test the
// class without caring about the message.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Message == "" && t.Field == "" && t.Code == e.Code
}

// New returns an *Error with the given code and message.
func New(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// InvalidField reports bad input in the named field.
func InvalidField(field, format string, args ...any) *Error {
	return &Error{Code: Invalid, Field: field, Message: fmt.Sprintf(format, args...)}
}

// NotFoundf reports a missing resource.
func NotFoundf(format string, args ...any) *Error { return New(NotFound, format, args...) }

// Conflictf reports a clash with current state.
func Conflictf(format string, args ...any) *Error { return New(Conflict, format, args...) }

// Unavailablef reports a dependency that cannot be reached.
func Unavailablef(format string, args ...any) *Error { return New(Unavailable, format, args...) }

// CodeOf returns the code of err: the code of the first *Error in its chain, or Internal for any
// other non-nil error. It returns "" for nil.
func CodeOf(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) && e.Code.Known() {
		return e.Code
	}
	return Internal
}

// Public returns the client-safe form of err: the *Error in its chain, or a generic internal error
// that reveals nothing about err. It returns nil for nil.
func Public(err error) *Error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) && e.Code.Known() {
		return e
	}
	return &Error{Code: Internal, Message: "internal error"}
}

// Sentinel values for errors.Is checks, e.g. errors.Is(err, apperr.ErrNotFound).
var (
	ErrInvalid     = &Error{Code: Invalid}
	ErrNotFound    = &Error{Code: NotFound}
	ErrConflict    = &Error{Code: Conflict}
	ErrUnavailable = &Error{Code: Unavailable}
)
