package dpapitest

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"strconv"

	"github.com/haproxytech/client-native/v5/models"
)

// config is backend → server → configuration.
type config map[string]map[string]models.Server

func (c config) clone() config {
	out := config{}
	for be, srvs := range c {
		out[be] = maps.Clone(srvs)
	}
	return out
}

// Config returns a copy of the committed configuration of one server.
func (f *Fake) Config(backend, server string) (models.Server, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.conf[backend][server]
	return s, ok
}

// Version is the configuration version.
func (f *Fake) Version() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.version
}

// BumpVersion simulates a commit by another client (call inside Do or a
// fault's Before).
func (f *Fake) BumpVersion() { f.version++ }

// Transactions returns the ids of open (or failed) transactions.
func (f *Fake) Transactions() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var ids []string
	for id := range f.txs {
		ids = append(ids, id)
	}
	return ids
}

func (f *Fake) dispatch(w http.ResponseWriter, r *http.Request, op *Op, body []byte) {
	q := r.URL.Query()
	switch op.Method + " " + op.Template {
	case "GET /services/haproxy/configuration/version":
		writeJSON(w, http.StatusOK, f.version)
	case "POST /services/haproxy/transactions":
		f.startTx(w, q.Get("version"))
	case "PUT /services/haproxy/transactions/{id}":
		f.commitTx(w, op.Params["id"], q.Get("force_reload") == "true")
	case "DELETE /services/haproxy/transactions/{id}":
		if _, ok := f.txs[op.Params["id"]]; !ok {
			notFound(w, "transaction %s not found", op.Params["id"])
			return
		}
		delete(f.txs, op.Params["id"])
		w.WriteHeader(http.StatusNoContent)
	case "POST /services/haproxy/configuration/servers",
		"GET /services/haproxy/configuration/servers/{name}",
		"PUT /services/haproxy/configuration/servers/{name}",
		"DELETE /services/haproxy/configuration/servers/{name}":
		f.configServer(w, r, op, body)
	default:
		f.runtime(w, r, op, body)
	}
}

func (f *Fake) startTx(w http.ResponseWriter, version string) {
	if v, _ := strconv.ParseInt(version, 10, 64); v != f.version {
		writeJSON(w, http.StatusConflict, apiErr(409, fmt.Sprintf("version mismatch, have ver %d, given ver %s", f.version, version)))
		return
	}
	f.nextTx++
	t := &tx{id: fmt.Sprintf("tx-%d", f.nextTx), version: f.version, status: "in_progress", conf: f.conf.clone()}
	f.txs[t.id] = t
	writeJSON(w, http.StatusCreated, t.model())
}

// commitTx: 406 when another commit came first (the real API's answer),
// 400 and "failed" when the configuration does not validate.
func (f *Fake) commitTx(w http.ResponseWriter, id string, force bool) {
	t, ok := f.txs[id]
	switch {
	case !ok:
		notFound(w, "transaction %s not found", id)
		return
	case t.version != f.version:
		writeJSON(w, http.StatusNotAcceptable, apiErr(406, fmt.Sprintf("transaction %s is outdated and cannot be committed", id)))
		return
	}
	if err := f.checkConfig(t.conf); err != nil {
		t.status = "failed"
		writeJSON(w, http.StatusBadRequest, apiErr(400, err.Error()))
		return
	}
	f.conf, t.status = t.conf, "success"
	f.version++
	delete(f.txs, id)
	if force {
		f.reloadLocked()
		writeJSON(w, http.StatusOK, t.model())
		return
	}
	w.Header().Set("Reload-ID", "2024-01-01-1")
	writeJSON(w, http.StatusAccepted, t.model())
}

func (f *Fake) checkConfig(c config) error {
	if f.CommitCheck == nil {
		return nil
	}
	for be, srvs := range c {
		for name, s := range srvs {
			if err := f.CommitCheck(be, name, s); err != nil {
				return err
			}
		}
	}
	return nil
}

func (t *tx) model() *models.Transaction {
	return &models.Transaction{ID: t.id, Version: t.version, Status: t.status}
}

// configServer serves the configuration server endpoints inside a
// transaction (the only way the driver uses them).
func (f *Fake) configServer(w http.ResponseWriter, r *http.Request, op *Op, body []byte) {
	q := r.URL.Query()
	t, ok := f.txs[q.Get("transaction_id")]
	if !ok || t.status != "in_progress" {
		notFound(w, "transaction %q not found", q.Get("transaction_id"))
		return
	}
	srvs, ok := t.conf[q.Get("backend")]
	if !ok {
		notFound(w, "backend %s not found", q.Get("backend"))
		return
	}
	var s models.Server
	if len(body) > 0 {
		if err := json.Unmarshal(body, &s); err != nil {
			writeJSON(w, http.StatusBadRequest, apiErr(400, err.Error()))
			return
		}
	}
	name := op.Params["name"]
	_, exists := srvs[name]
	switch r.Method {
	case http.MethodPost:
		if _, dup := srvs[s.Name]; dup {
			writeJSON(w, http.StatusConflict, apiErr(409, "server "+s.Name+" already exists"))
			return
		}
		srvs[s.Name] = s
		writeJSON(w, http.StatusAccepted, s)
	case http.MethodGet:
		if !exists {
			notFound(w, "server %s not found", name)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"_version": t.version, "data": srvs[name]})
	case http.MethodPut:
		if !exists {
			notFound(w, "server %s not found", name)
			return
		}
		srvs[name] = s
		writeJSON(w, http.StatusAccepted, s)
	case http.MethodDelete:
		if !exists {
			notFound(w, "server %s not found", name)
			return
		}
		delete(srvs, name)
		w.WriteHeader(http.StatusAccepted)
	}
}

// reloadLocked rebuilds the live state from the committed configuration
// and the map files, as a new worker would (runtime-only servers vanish;
// a surviving server keeps its check result and connections), and gives
// the worker a new pid.
func (f *Fake) reloadLocked() {
	live := map[string]map[string]*Live{}
	for be, srvs := range f.conf {
		live[be] = map[string]*Live{}
		for name, s := range srvs {
			l := &Live{Addr: s.Address, Op: "up", Check: "INI", Admin: "ready", healthyAfterReads: f.HealthyAfter}
			if old := f.live[be][name]; old != nil {
				l.Check, l.Sessions, l.Queue, l.Op = old.Check, old.Sessions, old.Queue, old.Op
			}
			if s.Port != nil {
				l.Port = *s.Port
			}
			if l.Weight = 1; s.Weight != nil {
				l.Weight = *s.Weight
			}
			if s.Maintenance == "enabled" {
				l.Admin = "maint"
			}
			live[be][name] = l
		}
	}
	f.live = live
	for name, m := range f.mapFile {
		f.maps[name] = maps.Clone(m)
	}
	if !f.NoNewWorker {
		f.pid++
	}
}
