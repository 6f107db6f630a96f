package dpapitest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"

	"github.com/haproxytech/client-native/v5/models"
)

// Server returns a copy of a server's live state.
func (f *Fake) Server(backend, server string) (Live, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	l, ok := f.live[backend][server]
	if !ok {
		return Live{}, false
	}
	return *l, true
}

// SetLive makes HAProxy run a server with the given live state (call
// inside Do), e.g. one a reload in flight brought back.
func (f *Fake) SetLive(backend, server string, l Live) {
	if f.live[backend] == nil {
		f.live[backend] = map[string]*Live{}
	}
	f.live[backend][server] = &l
}

// Live returns the live state of a server for changes inside Do, or nil.
func (f *Fake) Live(backend, server string) *Live { return f.live[backend][server] }

// MapValue returns the live and the on-disk value of a map key.
func (f *Fake) MapValue(key string) (live, file string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.maps[MapName][key], f.mapFile[MapName][key]
}

// Reload simulates the reload the real API runs after a commit.
func (f *Fake) Reload() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reloadLocked()
}

func (f *Fake) runtime(w http.ResponseWriter, r *http.Request, op *Op, body []byte) {
	q := r.URL.Query()
	switch op.Method + " " + op.Template {
	case "GET /services/haproxy/runtime/servers":
		f.listServers(w, q.Get("backend"))
	case "POST /services/haproxy/runtime/servers":
		f.addServer(w, q.Get("backend"), body)
	case "GET /services/haproxy/runtime/servers/{name}",
		"PUT /services/haproxy/runtime/servers/{name}",
		"DELETE /services/haproxy/runtime/servers/{name}":
		f.runtimeServer(w, r.Method, q.Get("backend"), op.Params["name"], body)
	case "GET /services/haproxy/runtime/maps_entries/{id}",
		"PUT /services/haproxy/runtime/maps_entries/{id}",
		"POST /services/haproxy/runtime/maps_entries":
		f.mapEntry(w, r.Method, q.Get("map"), op.Params["id"], q.Get("force_sync") == "true", body)
	case "GET /services/haproxy/stats/native":
		writeJSON(w, http.StatusOK, f.stats())
	case "GET /services/haproxy/runtime/info":
		pid := f.pid
		writeJSON(w, http.StatusOK, []map[string]any{{"info": map[string]any{"pid": pid}}})
	default:
		writeJSON(w, http.StatusNotImplemented, apiErr(501, "dpapitest: "+op.Method+" "+op.Template+" not modelled"))
	}
}

// noData is the real API's answer to a PUT of an unknown runtime server:
// 500, not 404.
func noData(w http.ResponseWriter, backend, server string) {
	writeJSON(w, http.StatusInternalServerError, apiErr(500, fmt.Sprintf("no data for %s/%s: not found", backend, server)))
}

func (l *Live) model(name string) *models.RuntimeServer {
	port := l.Port
	return &models.RuntimeServer{ID: name, Name: name, Address: l.Addr, Port: &port, AdminState: l.Admin, OperationalState: l.Op}
}

// listServers: an unknown backend lists empty (200 []), as on the real API.
func (f *Fake) listServers(w http.ResponseWriter, backend string) {
	srvs := f.live[backend]
	out := models.RuntimeServers{}
	for _, name := range sortedKeys(srvs) {
		out = append(out, srvs[name].model(name))
	}
	writeJSON(w, http.StatusOK, out)
}

func (f *Fake) addServer(w http.ResponseWriter, backend string, body []byte) {
	var s models.RuntimeAddServer
	if err := json.Unmarshal(body, &s); err != nil {
		writeJSON(w, http.StatusBadRequest, apiErr(400, err.Error()))
		return
	}
	srvs, ok := f.live[backend]
	switch {
	case !ok:
		notFound(w, "backend %s not found", backend)
		return
	case srvs[s.Name] != nil:
		writeJSON(w, http.StatusConflict, apiErr(409, "server "+s.Name+" already exists"))
		return
	}
	// The real API v2.9 sends HAProxy only the first option ("check"):
	// the dynamic server starts in MAINT, at weight 1, never checked.
	l := &Live{Addr: s.Address, Admin: "maint", Op: "down", Weight: 1, healthyAfterReads: f.HealthyAfter}
	if s.Port != nil {
		l.Port = *s.Port
	}
	srvs[s.Name] = l
	writeJSON(w, http.StatusCreated, s)
}

// runtimeServer: an unknown server answers GET and DELETE with 404 but
// PUT with 500 "no data", as on the real API; DELETE puts the server in
// maintenance itself.
func (f *Fake) runtimeServer(w http.ResponseWriter, method, backend, name string, body []byte) {
	l := f.live[backend][name]
	switch {
	case l == nil && method == http.MethodPut:
		noData(w, backend, name)
		return
	case l == nil:
		notFound(w, "no data for %s/%s: not found", backend, name)
		return
	}
	switch method {
	case http.MethodGet:
		writeJSON(w, http.StatusOK, l.model(name))
	case http.MethodPut:
		var rs models.RuntimeServer
		if err := json.Unmarshal(body, &rs); err != nil {
			writeJSON(w, http.StatusBadRequest, apiErr(400, err.Error()))
			return
		}
		if rs.AdminState != "" {
			l.Admin = rs.AdminState
		}
		writeJSON(w, http.StatusOK, l.model(name))
	case http.MethodDelete:
		l.Admin = "maint"
		switch {
		case l.Sessions > 0 || l.Queue > 0:
			writeJSON(w, http.StatusInternalServerError, apiErr(500, "Server still has connections attached to it, cannot remove it."))
		default:
			delete(f.live[backend], name)
			w.WriteHeader(http.StatusNoContent)
		}
	}
}

func (f *Fake) mapEntry(w http.ResponseWriter, method, mapName, key string, sync bool, body []byte) {
	m, ok := f.maps[mapName]
	if !ok {
		notFound(w, "map %s not found", mapName)
		return
	}
	var e models.MapEntry
	if len(body) > 0 {
		if err := json.Unmarshal(body, &e); err != nil {
			writeJSON(w, http.StatusBadRequest, apiErr(400, err.Error()))
			return
		}
	}
	status := http.StatusOK
	switch _, exists := m[key]; {
	case method == http.MethodPost:
		if _, dup := m[e.Key]; dup {
			writeJSON(w, http.StatusConflict, apiErr(409, "key "+e.Key+" already exists"))
			return
		}
		key, status = e.Key, http.StatusCreated
	case !exists:
		notFound(w, "key %s not found in map %s", key, mapName)
		return
	}
	if method != http.MethodGet {
		m[key] = e.Value
		if sync {
			f.mapFile[mapName][key] = e.Value
		}
	}
	writeJSON(w, status, &models.MapEntry{ID: key, Key: key, Value: m[key]})
}

// stats answers one collection like a single-socket node; reading a
// server's stats advances its health check from INI to L7OK.
func (f *Fake) stats() models.NativeStats {
	var rows []*models.NativeStat
	for _, be := range sortedKeys(f.live) {
		var scur int64
		for _, name := range sortedKeys(f.live[be]) {
			l := f.live[be][name]
			if l.statsReads++; l.Check == "INI" && l.statsReads >= l.healthyAfterReads {
				l.Check, l.Op = "L7OK", "up"
				if f.Down[name] {
					l.Check, l.Op = "L4CON", "down"
				}
			}
			scur += l.Sessions
			rows = append(rows, &models.NativeStat{Type: "server", Name: name, BackendName: be, Stats: l.stats()})
		}
		st := "UP"
		rows = append(rows, &models.NativeStat{Type: "backend", Name: be, Stats: &models.NativeStatStats{Status: st, Scur: &scur}})
	}
	return models.NativeStats{{RuntimeAPI: "/run/haproxy/admin.sock", Stats: rows}}
}

func (l *Live) stats() *models.NativeStatStats {
	w, s, q := l.Weight, l.Sessions, l.Queue
	// As real HAProxy reports them (some outside the spec's enum): DRAIN,
	// "no check" for a server without checks, and UP at weight 0.
	status := map[string]string{"maint": "MAINT", "drain": "DRAIN"}[l.Admin]
	switch {
	case status != "":
	case l.Check == "":
		status = "no check"
	default:
		status = map[string]string{"up": "UP", "down": "DOWN", "stopping": "NOLB"}[l.Op]
	}
	return &models.NativeStatStats{Status: status, CheckStatus: l.Check, Weight: &w, Scur: &s, Qcur: &q}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
