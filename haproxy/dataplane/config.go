package dataplane

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/haproxytech/client-native/v5/models"
	"github.com/shadowscale/shadowscale/haproxy"
)

// Changes to the configuration are single requests carrying the
// configuration version, not transactions: the real API v2.9 applies a
// server PUT that changes only weight or maintenance through the runtime
// API and writes the file without a reload (200), while every transaction
// commit reloads. Adds and deletes do need a reload (202); the API's
// reload agent runs one reload per --reload-delay for all changes made
// meanwhile, so a step's adds (or deletes) cost one reload together.

// configServer reads one server's configuration and the version it has.
func (d *DataPlane) configServer(ctx context.Context, op, backend, server string) (models.Server, int64, error) {
	var got struct {
		Version int64         `json:"_version"`
		Data    models.Server `json:"data"`
	}
	err := d.call(ctx, op+": read configuration", http.MethodGet, configServers+"/"+esc(server), url.Values{"backend": {backend}}, nil, &got)
	return got.Data, got.Version, err
}

// editConfig applies edit to the server's configuration and writes it back
// when it changed, retrying a version conflict (another client wrote in
// between: its change is kept, ours is applied on top of it). It reports
// whether the API scheduled a reload (202) rather than applying the
// change at run time (200).
func (d *DataPlane) editConfig(ctx context.Context, op, backend, server string, edit func(*models.Server)) (reload bool, err error) {
	for attempt := 0; ; attempt++ {
		s, version, err := d.configServer(ctx, op, backend, server)
		if err != nil {
			return false, err
		}
		before, _ := json.Marshal(&s)
		edit(&s)
		if after, _ := json.Marshal(&s); bytes.Equal(before, after) {
			return false, nil
		}
		q := versioned(backend, version)
		st, err := d.callStatus(ctx, op+": write configuration", http.MethodPut, configServers+"/"+esc(server), q, &s, nil)
		if !d.retryVersion(ctx, op, err, attempt) {
			return st == http.StatusAccepted, err
		}
	}
}

// createConfig adds a server to the backend's configuration.
func (d *DataPlane) createConfig(ctx context.Context, op, backend string, s *models.Server) error {
	for attempt := 0; ; attempt++ {
		version, err := d.version(ctx, op)
		if err != nil {
			return err
		}
		_, err = d.callStatus(ctx, op, http.MethodPost, configServers, versioned(backend, version), s, nil)
		if !d.retryVersion(ctx, op, err, attempt) {
			return err
		}
	}
}

// deleteConfig removes a server from the backend's configuration; a
// server that is not configured is an error wrapping ErrNotFound.
func (d *DataPlane) deleteConfig(ctx context.Context, op, backend, server string) error {
	for attempt := 0; ; attempt++ {
		version, err := d.version(ctx, op)
		if err != nil {
			return err
		}
		_, err = d.callStatus(ctx, op, http.MethodDelete, configServers+"/"+esc(server), versioned(backend, version), nil, nil)
		if !d.retryVersion(ctx, op, err, attempt) {
			return err
		}
	}
}

func (d *DataPlane) version(ctx context.Context, op string) (int64, error) {
	var v int64
	err := d.call(ctx, op+": get configuration version", http.MethodGet, "/services/haproxy/configuration/version", nil, nil, &v)
	return v, err
}

// retryVersion reports whether err is a version conflict worth another
// attempt, after a back-off.
func (d *DataPlane) retryVersion(ctx context.Context, op string, err error, attempt int) bool {
	if !versionConflict(err) || attempt >= d.cfg.Retries {
		return false
	}
	d.log.Info("configuration changed underneath, retrying", "op", op, "attempt", attempt+1)
	return sleep(ctx, d.cfg.RetryDelay*time.Duration(attempt+1)) == nil
}

// versionConflict: a stale version (409 "version mismatch"), or the
// implicit transaction of a versioned write lost to another client's
// commit (500 "cannot read version: transaction does not exist", seen
// under concurrent commits): either way nothing was written.
func versionConflict(err error) bool {
	msg := strings.ToLower(message(err))
	switch status(err) {
	case http.StatusConflict:
		return strings.Contains(msg, "version")
	case http.StatusInternalServerError:
		return lostTransaction(msg)
	}
	return false
}

func versioned(backend string, version int64) url.Values {
	return url.Values{"backend": {backend}, "version": {strconv.FormatInt(version, 10)}}
}

// message is the API's error message in err, or "".
func message(err error) string {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae.Message
	}
	return ""
}

// newServer is the configuration of a server to add: checked, not in
// maintenance (HAProxy never checks a server in MAINT, and API v2 cannot
// start the checks of one), at weight 0 so it takes no traffic until
// SetState(ready) gives it its weight.
func newServer(s haproxy.ServerSpec) *models.Server {
	port, w, inter := int64(s.Port), int64(0), s.CheckInter.Milliseconds()
	m := &models.Server{Name: s.Name, Address: s.Addr, Port: &port, ServerParams: models.ServerParams{
		Weight: &w, Check: "enabled", Inter: &inter}}
	if s.SlowStart > 0 {
		ss := s.SlowStart.Milliseconds()
		m.Slowstart = &ss
	}
	return m
}

func isNotFound(err error) bool { return errors.Is(err, haproxy.ErrNotFound) }
