package bus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"
	"github.com/solcrowd/backend/libs/apperr"
)

var semver = regexp.MustCompile(`^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$`)

// ServiceVersion turns a build stamp into the semantic version micro insists on: "1.2.3" and
// "v1.2.3" stay as they are (without the v); anything else, like "dev+abc123", becomes 0.0.0 with
// the stamp kept as build metadata ("0.0.0+dev.abc123"), so discovery still shows it.
func ServiceVersion(v string) string {
	if w := strings.TrimPrefix(v, "v"); semver.MatchString(w) {
		return w
	}
	clean := strings.Trim(nonMeta.ReplaceAllString(v, "."), ".")
	if clean == "" {
		return "0.0.0"
	}
	return "0.0.0+" + clean
}

var nonMeta = regexp.MustCompile(`[^0-9A-Za-z-]+`)

// Service is a NATS micro service: discovery, stats and ping come with it. Endpoints are added
// with Handle.
type Service struct {
	svc micro.Service
	log *slog.Logger
	// timeout bounds each handler; requests carry no deadline of their own over NATS.
	timeout time.Duration
}

// NewService registers a micro service named name (e.g. events.ServiceCampaign). Every replica
// joins the same queue group, so each request is answered once.
func (c *Conn) NewService(name, version string, log *slog.Logger) (*Service, error) {
	svc, err := micro.AddService(c.NC, micro.Config{Name: name, Version: ServiceVersion(version)})
	if err != nil {
		return nil, fmt.Errorf("add service %s: %w", name, err)
	}
	return &Service{svc: svc, log: log, timeout: 30 * time.Second}, nil
}

// Stop stops answering requests; requests in hand finish first.
func (s *Service) Stop() error { return s.svc.Stop() }

// Handle adds an endpoint on subject whose handler takes a decoded Req and returns a Resp or an
// error. A body that does not decode is an apperr.Invalid error; an *apperr.Error travels to the
// caller with its code, message and field; any other error is logged here and sent as a generic
// internal error, so internals never leave the service.
func Handle[Req, Resp any](s *Service, name, subject string, h func(ctx context.Context, req Req) (Resp, error)) error {
	return s.svc.AddEndpoint(name, micro.HandlerFunc(func(r micro.Request) {
		ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
		defer cancel()
		var req Req
		if len(r.Data()) > 0 {
			if err := json.Unmarshal(r.Data(), &req); err != nil {
				respondErr(r, apperr.New(apperr.Invalid, "request body is not valid JSON for %s", name), s.log)
				return
			}
		}
		resp, err := safeCall(ctx, h, req)
		if err != nil {
			pub := apperr.Public(err)
			if pub.Code == apperr.Internal {
				s.log.Error("request failed", "endpoint", name, "err", err)
			}
			respondErr(r, pub, s.log)
			return
		}
		data, err := json.Marshal(resp)
		if err != nil {
			s.log.Error("marshal reply", "endpoint", name, "err", err)
			respondErr(r, apperr.Public(err), s.log)
			return
		}
		if err := r.Respond(data); err != nil {
			s.log.Warn("respond", "endpoint", name, "err", err)
		}
	}), micro.WithEndpointSubject(subject))
}

func safeCall[Req, Resp any](ctx context.Context, h func(context.Context, Req) (Resp, error), req Req) (resp Resp, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic in handler: %v", p)
		}
	}()
	return h(ctx, req)
}

func respondErr(r micro.Request, e *apperr.Error, log *slog.Logger) {
	body, _ := json.Marshal(e)
	if err := r.Error(string(e.Code), e.Message, body); err != nil {
		log.Warn("respond error", "err", err)
	}
}

// Request sends req to subject and decodes the reply into Resp. A service error comes back as
// the *apperr.Error the service sent. No responder, a timeout or a broken connection is an
// apperr.Unavailable error, since the caller can only retry later.
func Request[Resp, Req any](ctx context.Context, c *Conn, subject string, req Req) (Resp, error) {
	var zero Resp
	data, err := json.Marshal(req)
	if err != nil {
		return zero, fmt.Errorf("marshal request for %s: %w", subject, err)
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
	}
	msg, err := c.NC.RequestWithContext(ctx, subject, data)
	if err != nil {
		if errors.Is(err, nats.ErrNoResponders) {
			return zero, apperr.Unavailablef("%s has no responders", subject)
		}
		return zero, &apperr.Error{Code: apperr.Unavailable, Message: fmt.Sprintf("%s: %v", subject, err)}
	}
	if code := msg.Header.Get(micro.ErrorCodeHeader); code != "" {
		var e apperr.Error
		if json.Unmarshal(msg.Data, &e) != nil || !e.Code.Known() {
			e = apperr.Error{Code: apperr.Code(code), Message: msg.Header.Get(micro.ErrorHeader)}
			if !e.Code.Known() {
				e.Code = apperr.Internal
			}
		}
		return zero, &e
	}
	var resp Resp
	if err := json.Unmarshal(msg.Data, &resp); err != nil {
		return zero, fmt.Errorf("decode reply of %s: %w", subject, err)
	}
	return resp, nil
}
