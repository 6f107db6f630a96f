package dataplane

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/haproxytech/client-native/v5/models"
	"github.com/shadowscale/shadowscale/haproxy"
)

// apiError is an error answer of the Data Plane API: its status and
// message, classified into a haproxy sentinel by Unwrap.
type apiError struct {
	Status  int
	Message string
	Body    []byte
}

func newAPIError(status int, body []byte) *apiError {
	var m models.Error
	msg := strings.TrimSpace(string(body))
	if json.Unmarshal(body, &m) == nil && m.Message != nil {
		msg = *m.Message
	}
	return &apiError{Status: status, Message: msg, Body: body}
}

func (e *apiError) Error() string { return fmt.Sprintf("HTTP %d", e.Status) }

// Unwrap maps the answer to a sentinel the way the real API v2.9 answers
// (HAProxy 2.6 and 3.2): an unknown runtime server is 404 on GET and
// DELETE but 500 "no data for be/srv: not found" on PUT; an add to an
// unknown backend through the configuration is 400 "missing parent:
// backend … does not exist"; an invalid value 422; a stale version 409
// ("version mismatch"), a duplicate name 409 too, a versioned write whose
// implicit transaction another commit removed 500 "cannot read version";
// an outdated transaction 406.
func (e *apiError) Unwrap() error {
	msg := strings.ToLower(e.Message)
	switch {
	case strings.Contains(msg, "still has connections"):
		return haproxy.ErrHasConnections
	case lostTransaction(msg):
		return haproxy.ErrConflict // another commit took the write's transaction
	case e.Status == http.StatusNotFound, strings.Contains(msg, "not found"), strings.Contains(msg, "does not exist"):
		return haproxy.ErrNotFound
	case e.Status == http.StatusConflict, e.Status == http.StatusNotAcceptable:
		return haproxy.ErrConflict
	case e.Status == http.StatusUnprocessableEntity:
		return haproxy.ErrInvalid
	case e.Status == http.StatusUnauthorized, e.Status == http.StatusForbidden:
		return haproxy.ErrPermission
	case e.Status == http.StatusTooManyRequests, e.Status >= 502 && e.Status <= 504:
		return haproxy.ErrUnavailable
	}
	return haproxy.ErrRefused
}

// lostTransaction: the implicit transaction of a versioned write was
// removed by another client's commit (500 "cannot read version:
// transaction does not exist"); msg is lower-case.
func lostTransaction(msg string) bool { return strings.Contains(msg, "cannot read version") }

// netError is a transport failure: nothing answered.
type netError struct{ err error }

func (e *netError) Error() string   { return e.err.Error() }
func (e *netError) Unwrap() []error { return []error{haproxy.ErrUnavailable, e.err} }

// transient reports failures worth retrying for an idempotent request.
func transient(err error) bool {
	var ne *netError
	var ae *apiError
	switch {
	case errors.As(err, &ne):
		return true
	case errors.As(err, &ae):
		return ae.Status >= 502 && ae.Status <= 504
	}
	return false
}

// status returns the API's HTTP status in err, or 0.
func status(err error) int {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae.Status
	}
	return 0
}
