package api

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

// Error is the body of every error answer: the problem in one line and,
// for a validation error, the field it is about.
type Error struct {
	Error string `json:"error"`
	Field string `json:"field,omitempty"`
}

func fail(c *gin.Context, code int, msg string) {
	c.AbortWithStatusJSON(code, Error{Error: msg})
}

func failField(c *gin.Context, field, msg string) {
	c.AbortWithStatusJSON(http.StatusBadRequest, Error{Error: field + ": " + msg, Field: field})
}

// authorized compares the bearer token in constant time. Both sides are
// hashed first so that the comparison does not leak the token's length.
func (s *Server) authorized(c *gin.Context) (bool, string) {
	h := c.GetHeader("Authorization")
	got, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || s.cfg.Token == "" {
		return false, "missing"
	}
	a, b := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(s.cfg.Token))
	if subtle.ConstantTimeCompare(a[:], b[:]) != 1 {
		return false, "wrong"
	}
	return true, ""
}

// writeAuth guards every mutating route: without a configured token they
// are refused outright (403), a missing token is 401, a wrong one 403.
func (s *Server) writeAuth(c *gin.Context) {
	if s.cfg.Token == "" {
		s.auditLine(c, "refused", "no API token configured")
		fail(c, http.StatusForbidden, "mutating calls are disabled: no API token configured ([service] api_token or api_token_file)")
		return
	}
	s.checkToken(c, true)
}

// readAuth guards reads when [service] api_read_auth is on.
func (s *Server) readAuth(c *gin.Context) {
	if s.cfg.ReadAuth {
		s.checkToken(c, false)
	}
}

func (s *Server) checkToken(c *gin.Context, audit bool) {
	ok, why := s.authorized(c)
	switch {
	case ok:
		c.Set("who", "token")
		return
	case why == "missing":
		c.Header("WWW-Authenticate", `Bearer realm="shadowscale"`)
		if audit {
			s.auditLine(c, "refused", "no bearer token")
		}
		fail(c, http.StatusUnauthorized, "a bearer token is required (Authorization: Bearer TOKEN)")
	default:
		if audit {
			s.auditLine(c, "refused", "wrong bearer token")
		}
		fail(c, http.StatusForbidden, "the bearer token is not valid")
	}
}

// audit logs one line per mutating call once it has been answered: who
// (the client address and whether it authenticated), what (method, path,
// LB), the result (status). Never the token or the body.
func (s *Server) audit(c *gin.Context) {
	start := time.Now()
	c.Next()
	result := "ok"
	if c.Writer.Status() >= 400 {
		result = "error"
	}
	if msg, ok := c.Get("audit_error"); ok {
		result += ": " + msg.(string)
	}
	s.cfg.Log.Info("audit", "who", c.ClientIP(), "auth", c.GetString("who"), "method", c.Request.Method,
		"path", c.Request.URL.Path, "status", c.Writer.Status(), "result", result, "duration", time.Since(start))
}

func (s *Server) auditLine(c *gin.Context, result, why string) {
	s.cfg.Log.Warn("audit", "who", c.ClientIP(), "auth", "none", "method", c.Request.Method,
		"path", c.Request.URL.Path, "result", result+": "+why)
}

// limitBody bounds every request body; a larger one fails to decode with
// 413 (see bind).
func (s *Server) limitBody(c *gin.Context) {
	if c.Request.Body != nil {
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, s.cfg.MaxBody)
	}
	c.Next()
}

func isTooLarge(err error) bool {
	var mbe *http.MaxBytesError
	return errors.As(err, &mbe)
}
