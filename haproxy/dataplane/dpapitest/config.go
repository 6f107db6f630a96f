package dpapitest

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"strconv"
	"time"

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
	case "GET /services/haproxy/configuration/backends/{name}":
		f.backend(w, op.Params["name"])
	case "POST /services/haproxy/configuration/servers",
		"GET /services/haproxy/configuration/servers",
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
	f.scheduleReloadLocked()
	w.Header().Set("Reload-ID", fmt.Sprintf("2024-01-01-%d", f.reloads+1))
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

// configServer serves the configuration server endpoints as the real API
// v2.9 does: inside a transaction, or alone with the configuration
// version (a stale one answers 409). Alone, a change that touches only
// weight or maintenance of a running server is applied live and answers
// 200 without a reload; anything else answers 202 and schedules one
// reload for all changes within ReloadDelay.
func (f *Fake) configServer(w http.ResponseWriter, r *http.Request, op *Op, body []byte) {
	q := r.URL.Query()
	conf, version, inTx, ok := f.txConfig(w, r)
	if !ok {
		return
	}
	backend, name := q.Get("backend"), op.Params["name"]
	srvs, known := conf[backend]
	if op.Template == "/services/haproxy/configuration/servers" && r.Method == http.MethodGet {
		list := models.Servers{} // an unknown backend lists empty, like the real API
		for _, n := range sortedKeys(srvs) {
			s := srvs[n]
			list = append(list, &s)
		}
		writeJSON(w, http.StatusOK, map[string]any{"_version": version, "data": list})
		return
	}
	var s models.Server
	if !f.checkServerWrite(w, r, known, backend, body, &s) {
		return
	}
	old, exists := srvs[name]
	switch {
	case r.Method != http.MethodPost && !exists:
		notFound(w, "missing object: server %s does not exist in %s backend", name, backend)
	case r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, map[string]any{"_version": version, "data": old})
	case r.Method == http.MethodPost && srvs[s.Name].Name != "":
		writeJSON(w, http.StatusConflict, apiErr(409, "object server "+s.Name+" already exists"))
	default:
		f.writeServer(w, r.Method, inTx, srvs, backend, name, old, s)
	}
}

// txConfig is the configuration a request works on: its transaction's, or
// the committed one when it carries the current version (409 otherwise).
func (f *Fake) txConfig(w http.ResponseWriter, r *http.Request) (conf config, version int64, inTx, ok bool) {
	q := r.URL.Query()
	if id := q.Get("transaction_id"); id != "" {
		t, found := f.txs[id]
		if !found || t.status != "in_progress" {
			notFound(w, "transaction %q not found", id)
			return nil, 0, true, false
		}
		return t.conf, t.version, true, true
	}
	if v, _ := strconv.ParseInt(q.Get("version"), 10, 64); r.Method != http.MethodGet && v != f.version {
		writeJSON(w, http.StatusConflict, apiErr(409, fmt.Sprintf("version mismatch: version in configuration file is %d, given version is %s", f.version, q.Get("version"))))
		return nil, 0, false, false
	}
	return f.conf, f.version, false, true
}

// checkServerWrite decodes the body and refuses what the real API
// refuses before writing: an unknown backend, a configuration that fails
// "haproxy -c" (CommitCheck; inside a transaction it runs at commit).
func (f *Fake) checkServerWrite(w http.ResponseWriter, r *http.Request, known bool, backend string, body []byte, s *models.Server) bool {
	if len(body) > 0 {
		if err := json.Unmarshal(body, s); err != nil {
			writeJSON(w, http.StatusBadRequest, apiErr(400, err.Error()))
			return false
		}
	}
	write := r.Method == http.MethodPost || r.Method == http.MethodPut
	switch {
	case !known && r.Method == http.MethodPost:
		writeJSON(w, http.StatusBadRequest, apiErr(400, fmt.Sprintf("missing parent: backend %s does not exist", backend)))
		return false
	case !known:
		notFound(w, "missing object: backend %s does not exist", backend)
		return false
	case write && r.URL.Query().Get("transaction_id") == "" && f.CommitCheck != nil:
		if err := f.CommitCheck(backend, s.Name, *s); err != nil {
			writeJSON(w, http.StatusBadRequest, apiErr(400, err.Error()))
			return false
		}
	}
	return true
}

// writeServer applies a POST, PUT or DELETE; outside a transaction it
// bumps the version and either applies the change live (200) or schedules
// a reload (202).
func (f *Fake) writeServer(w http.ResponseWriter, method string, inTx bool, srvs map[string]models.Server, backend, name string, old, s models.Server) {
	switch method {
	case http.MethodPost:
		srvs[s.Name] = s
	case http.MethodPut:
		srvs[name] = s
	case http.MethodDelete:
		delete(srvs, name)
	}
	if inTx {
		writeBody(w, http.StatusAccepted, method, s)
		return
	}
	f.version++
	if method == http.MethodPut && f.applyLive(backend, old, s) {
		writeJSON(w, http.StatusOK, s)
		return
	}
	f.scheduleReloadLocked()
	w.Header().Set("Reload-ID", fmt.Sprintf("2024-01-01-%d", f.reloads+1))
	writeBody(w, http.StatusAccepted, method, s)
}

func writeBody(w http.ResponseWriter, status int, method string, s models.Server) {
	if method == http.MethodDelete {
		w.WriteHeader(status)
		return
	}
	writeJSON(w, status, s)
}

// applyLive applies a change of only weight and maintenance to a running
// server, as the real API does through the runtime API; false means a
// reload is needed.
func (f *Fake) applyLive(backend string, old, s models.Server) bool {
	l := f.live[backend][s.Name]
	a, b := old, s
	a.Weight, b.Weight, a.Maintenance, b.Maintenance = nil, nil, "", ""
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if l == nil || string(ja) != string(jb) {
		return false
	}
	if s.Weight != nil {
		l.Weight = *s.Weight
	}
	if s.Maintenance != old.Maintenance {
		l.Admin = "ready"
		if s.Maintenance == "enabled" {
			l.Admin = "maint"
		}
	}
	return true
}

// scheduleReloadLocked makes one reload happen ReloadDelay from now for
// every change until then, like the real API's reload agent.
func (f *Fake) scheduleReloadLocked() {
	if f.reloadPending {
		return
	}
	f.reloadPending = true
	time.AfterFunc(f.ReloadDelay, func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.reloadPending = false
		f.reloadLocked()
	})
}

// Reloads is how many reloads the fake ran (forced and scheduled).
func (f *Fake) Reloads() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.reloads
}

// backend answers GET of one backend's configuration.
func (f *Fake) backend(w http.ResponseWriter, name string) {
	if _, ok := f.conf[name]; !ok {
		notFound(w, "missing object: backend %s does not exist", name)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"_version": f.version, "data": models.Backend{Name: name}})
}

// reloadLocked rebuilds the live state from the committed configuration
// and the map files, as a new worker would: runtime-only servers vanish; a
// configured server is in MAINT when "disabled" (and then never checked),
// unchecked without "check", else its check starts over (INI) unless the
// server existed before (the server-state file keeps its result, a MAINT
// with checks off, and connections); drain is not kept. The worker gets a new pid.
func (f *Fake) reloadLocked() {
	live := map[string]map[string]*Live{}
	for be, srvs := range f.conf {
		live[be] = map[string]*Live{}
		for name, s := range srvs {
			live[be][name] = f.liveFromConfig(s, f.live[be][name])
		}
	}
	f.live = live
	for name, m := range f.mapFile {
		f.maps[name] = maps.Clone(m)
	}
	f.reloads++
	if !f.NoNewWorker {
		f.pid++
	}
}

func (f *Fake) liveFromConfig(s models.Server, old *Live) *Live {
	l := &Live{Addr: s.Address, Op: "up", Check: "INI", Admin: "ready", Weight: 1, healthyAfterReads: f.HealthyAfter}
	if s.Port != nil {
		l.Port = *s.Port
	}
	if s.Weight != nil {
		l.Weight = *s.Weight
	}
	switch {
	case s.Maintenance == "enabled":
		l.Admin, l.Check = "maint", ""
	case s.Check != "enabled":
		l.Check = ""
	case old != nil && old.Admin == "maint":
		// The server-state file the reload command saves restores MAINT
		// and checks that were off (a runtime-added server).
		l.Admin, l.Check = "maint", old.Check
	case old != nil && old.Check != "":
		l.Check, l.Op = old.Check, old.Op
	}
	if old != nil {
		l.Sessions, l.Queue = old.Sessions, old.Queue
	}
	return l
}
