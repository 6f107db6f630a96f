package haproxy

import (
	"errors"
	"fmt"
	"strings"

	"github.com/shadowscale/shadowscale/internal/notfound"
)

// Sentinels callers branch on; every error the drivers return wraps one of
// them where it applies (use errors.Is).
var (
	// ErrNotFound: unknown backend, server or map key. It is the
	// scheduler's ErrNotFound too (one sentinel, internal/notfound).
	ErrNotFound = notfound.Err
	// ErrHasConnections: a server still had sessions or queued requests
	// when the bounded wait for removal ended.
	ErrHasConnections = errors.New("server still has connections")
	// ErrUnavailable: the socket (or API) cannot be reached: missing file,
	// nothing listening, HAProxy not running.
	ErrUnavailable = errors.New("haproxy unavailable")
	// ErrPermission: the socket file or HAProxy's CLI level forbids it.
	ErrPermission = errors.New("permission denied")
	// ErrRefused: HAProxy understood the command and refused it; the
	// Error's Message is HAProxy's own text.
	ErrRefused = errors.New("refused by haproxy")
	// ErrNotHealthy: a health wait ended before the check passed.
	ErrNotHealthy = errors.New("server not healthy")
	// ErrInvalid: bad input caught before anything was sent.
	ErrInvalid = errors.New("invalid argument")
	// ErrConflict: a configuration version conflict that outlived retries
	// (Data Plane API).
	ErrConflict = errors.New("configuration version conflict")
	// ErrDegraded: the fleet's nodes disagree (a server exists on some
	// nodes only, or is being re-seeded and re-gated on a node that came
	// back empty); the Fleet's error names the node.
	ErrDegraded = errors.New("fleet degraded")
)

// Error is a failed driver operation: which node, which operation, the
// command sent, and HAProxy's message when it gave one.
type Error struct {
	Node    string
	Op      string
	Command string
	Message string // HAProxy's own text, if any
	Err     error  // a sentinel above, or the underlying error
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.Node != "" {
		fmt.Fprintf(&b, "haproxy %s: ", e.Node)
	} else {
		b.WriteString("haproxy: ")
	}
	b.WriteString(e.Op)
	if e.Command != "" {
		fmt.Fprintf(&b, " (%q)", e.Command)
	}
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	if e.Err != nil {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// classify maps an HAProxy CLI message or a socket error to a sentinel.
func classify(msg string, err error) error {
	text := strings.ToLower(msg)
	if err != nil {
		text += " " + strings.ToLower(err.Error())
	}
	switch {
	case strings.Contains(text, "permission denied"):
		return ErrPermission
	case strings.Contains(text, "no such file or directory"),
		strings.Contains(text, "connection refused"),
		strings.Contains(text, "no valid runtimes"):
		return ErrUnavailable
	case strings.Contains(text, "no such server"),
		strings.Contains(text, "no such backend"),
		strings.Contains(text, "can't find backend"),
		strings.Contains(text, "unknown map identifier"),
		strings.Contains(text, "entry not found"),
		strings.Contains(text, "not found"):
		return ErrNotFound
	case strings.Contains(text, "still has connections"):
		return ErrHasConnections
	case err != nil:
		return err
	default:
		return ErrRefused
	}
}

// cliMessage returns the error text of a raw CLI answer, or "" when the
// answer is a success. With "set severity-output number" HAProxy prefixes
// errors with [0]..[3]; without it errors are plain sentences, so known
// failure phrases are matched too.
func cliMessage(out string) string {
	out = strings.TrimSpace(out)
	if len(out) > 4 && out[0] == '[' && out[2] == ']' && out[3] == ':' {
		if out[1] <= '3' {
			return strings.TrimSpace(out[4:])
		}
		return ""
	}
	for _, p := range []string{"No such", "Unknown", "Can't", "cannot", "Permission denied",
		"Only servers", "still has", "Absolute weight", "Require", "not found", "Missing", "invalid", "Invalid"} {
		if strings.Contains(out, p) {
			return out
		}
	}
	return ""
}
