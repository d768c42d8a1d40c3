package api

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/solcrowd/backend/libs/apperr"
)

// errorBody is the one error envelope of the REST API. It keeps the seed's success/error pair
// (success is always false) and the status word of the seed's token endpoint, and adds the
// machine-readable code, the offending field for invalid input and the request id under which
// the gateway logged the failure.
type errorBody struct {
	Success   bool   `json:"success"`
	Status    string `json:"status"`
	Error     string `json:"error"`
	Code      string `json:"code"`
	Field     string `json:"field,omitempty"`
	RequestID string `json:"request_id"`
}

// httpError is an apperr.Error that needs an HTTP status its code alone does not say (413 for
// an oversized body, 403 for disabled operator endpoints, 405, 415). It is only created and
// read in this package, and statusOf is still the one place that picks a status.
type httpError struct {
	status int
	err    *apperr.Error
}

func (e *httpError) Error() string { return e.err.Error() }
func (e *httpError) Unwrap() error { return e.err }

func withStatus(status int, err *apperr.Error) error { return &httpError{status: status, err: err} }

// statusOf maps an error to its HTTP status. It is the only mapping from error codes to statuses
// in the gateway.
func statusOf(err error) int {
	var he *httpError
	if errors.As(err, &he) {
		return he.status
	}
	var mb *http.MaxBytesError
	if errors.As(err, &mb) {
		return http.StatusRequestEntityTooLarge
	}
	switch apperr.CodeOf(err) {
	case apperr.Invalid:
		return http.StatusBadRequest
	case apperr.NotFound:
		return http.StatusNotFound
	case apperr.Conflict:
		return http.StatusConflict
	case apperr.Unauthorized:
		return http.StatusUnauthorized
	case apperr.RateLimited:
		return http.StatusTooManyRequests
	case apperr.Unavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// publicOf returns what a client may see of err. Internal errors and the details of unavailable
// dependencies (subjects, transport errors) are replaced by generic text; they are logged.
func publicOf(err error) *apperr.Error {
	var mb *http.MaxBytesError
	if errors.As(err, &mb) {
		return apperr.InvalidField("body", "request body is larger than %d bytes", mb.Limit)
	}
	pub := apperr.Public(err)
	switch pub.Code {
	case apperr.Internal:
		return &apperr.Error{Code: apperr.Internal, Message: "internal error"}
	case apperr.Unavailable:
		return &apperr.Error{Code: apperr.Unavailable, Message: "a backend service is unavailable; retry later"}
	}
	return pub
}

// fail records err for the error middleware and stops the handler chain.
func fail(c *gin.Context, err error) {
	_ = c.Error(err)
	c.Abort()
}

// errorMiddleware renders the last error a handler recorded, in the one envelope, and logs it
// with the request id. Client errors are logged at debug level, server errors at error level.
func errorMiddleware(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		c.Next()
		if len(c.Errors) == 0 || c.Writer.Written() {
			return
		}
		err := c.Errors.Last().Err
		writeError(c, log, err)
	}
}

func writeError(c *gin.Context, log *slog.Logger, err error) {
	status := statusOf(err)
	pub := publicOf(err)
	rid := requestID(c)
	if status >= 500 {
		log.Error("request failed", "request_id", rid, "method", c.Request.Method, "path", c.Request.URL.Path, "status", status, "err", err)
	} else {
		log.Debug("request rejected", "request_id", rid, "method", c.Request.Method, "path", c.Request.URL.Path, "status", status, "err", err)
	}
	if status == http.StatusTooManyRequests {
		c.Header("Retry-After", "60")
	}
	if status == http.StatusUnauthorized {
		c.Header("WWW-Authenticate", `Bearer realm="operator"`)
	}
	c.JSON(status, errorBody{
		Success:   false,
		Status:    "error",
		Error:     pub.Message,
		Code:      string(pub.Code),
		Field:     pub.Field,
		RequestID: rid,
	})
}
