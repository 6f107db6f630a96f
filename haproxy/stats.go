package haproxy

import (
	"context"
	"errors"
	"strings"

	"github.com/haproxytech/client-native/v5/models"
)

// StatRow is one line of HAProxy's stats: a frontend, a backend or a
// server. Counters (…Total, Hrsp…, …Errors, Retries, Redispatches) are
// cumulative since the worker started (they reset on reload); Rate and
// ReqRate are per second over the last second; the times are HAProxy's
// averages over the last 1024 requests, in milliseconds.
type StatRow struct {
	Type   string `json:"type"` // frontend, backend or server
	Proxy  string `json:"proxy"`
	Server string `json:"server,omitempty"`

	Status      string `json:"status"`
	CheckStatus string `json:"check_status,omitempty"`
	CheckDesc   string `json:"check_desc,omitempty"`
	Weight      int64  `json:"weight"`

	Sessions      int64 `json:"sessions"` // current
	Queue         int64 `json:"queue"`    // current
	SessionsTotal int64 `json:"sessions_total"`
	Requests      int64 `json:"requests_total"` // HTTP requests (frontends, backends)
	Rate          int64 `json:"rate"`           // sessions/s
	ReqRate       int64 `json:"req_rate"`       // HTTP requests/s (frontends)
	Hrsp2xx       int64 `json:"hrsp_2xx"`
	Hrsp4xx       int64 `json:"hrsp_4xx"`
	Hrsp5xx       int64 `json:"hrsp_5xx"`
	ConnErrors    int64 `json:"conn_errors"`
	RespErrors    int64 `json:"resp_errors"`
	ReqErrors     int64 `json:"req_errors"`
	Retries       int64 `json:"retries"`
	Redispatches  int64 `json:"redispatches"`

	QueueTimeMs    int64 `json:"qtime_ms"`
	ConnectTimeMs  int64 `json:"ctime_ms"`
	ResponseTimeMs int64 `json:"rtime_ms"`
	TotalTimeMs    int64 `json:"ttime_ms"`
}

// Stats is a snapshot of one node's stats.
type Stats struct {
	Node      string    `json:"node"`
	Frontends []StatRow `json:"frontends"`
	Backends  []StatRow `json:"backends"`
	Servers   []StatRow `json:"servers"`
}

// Errors is shadowscale's one definition of a failed request, for the
// collector's error rate and the health gate alike: 5xx answers plus
// connection and response errors (a request HAProxy could not get an
// answer for never shows as a 5xx from the server).
func (r StatRow) Errors() int64 { return r.Hrsp5xx + r.ConnErrors + r.RespErrors }

// Serving says whether a server row takes traffic: UP (on every node, for
// a fleet's merged row) and weighted (HAProxy reports a server at weight 0
// as UP but sends it nothing).
func (r StatRow) Serving() bool { return strings.HasPrefix(r.Status, "UP") && r.Weight > 0 }

// Row finds a row by type, proxy and server ("" for frontends/backends).
func (s Stats) Row(typ, proxy, server string) (StatRow, bool) {
	rows := s.Servers
	switch typ {
	case "frontend":
		rows = s.Frontends
	case "backend":
		rows = s.Backends
	}
	for _, r := range rows {
		if r.Proxy == proxy && r.Server == server {
			return r, true
		}
	}
	return StatRow{}, false
}

// Stats reads live stats for every frontend, backend and server.
func (r *Runtime) Stats(ctx context.Context) (Stats, error) {
	if err := ctx.Err(); err != nil {
		return Stats{}, err
	}
	out := Stats{Node: r.Name()}
	all, err := bounded(ctx, r.cfg.timeout(), func() (models.NativeStats, error) { return r.rt.GetStats(), nil })
	if err != nil {
		return Stats{}, &Error{Node: r.Name(), Op: "read stats", Command: "show stat", Err: err}
	}
	for _, coll := range all {
		if coll == nil {
			continue
		}
		if coll.Error != "" {
			return Stats{}, &Error{Node: r.Name(), Op: "read stats", Command: "show stat", Message: coll.Error, Err: classify("", errors.New(coll.Error))}
		}
		for _, st := range coll.Stats {
			out.Add(RowFromNative(st))
		}
	}
	return out, nil
}

// Add files a row under its type; rows of other types are ignored.
func (s *Stats) Add(row StatRow) {
	switch row.Type {
	case "frontend":
		s.Frontends = append(s.Frontends, row)
	case "backend":
		s.Backends = append(s.Backends, row)
	case "server":
		s.Servers = append(s.Servers, row)
	}
}

// RowFromNative converts the Data Plane API's stats model, which both
// drivers read (client-native's runtime parses `show stat` into it).
func RowFromNative(st *models.NativeStat) StatRow {
	row := StatRow{Type: st.Type, Proxy: st.Name}
	if st.Type == "server" {
		row.Proxy, row.Server = st.BackendName, st.Name
	}
	s := st.Stats
	if s == nil {
		return row
	}
	row.Status, row.CheckStatus, row.CheckDesc = s.Status, s.CheckStatus, s.CheckDesc
	for dst, src := range map[*int64]*int64{
		&row.Weight: s.Weight, &row.Sessions: s.Scur, &row.Queue: s.Qcur, &row.SessionsTotal: s.Stot,
		&row.Requests: s.ReqTot, &row.Rate: s.Rate, &row.ReqRate: s.ReqRate,
		&row.Hrsp2xx: s.Hrsp2xx, &row.Hrsp4xx: s.Hrsp4xx, &row.Hrsp5xx: s.Hrsp5xx,
		&row.ConnErrors: s.Econ, &row.RespErrors: s.Eresp, &row.ReqErrors: s.Ereq,
		&row.Retries: s.Wretr, &row.Redispatches: s.Wredis,
		&row.QueueTimeMs: s.Qtime, &row.ConnectTimeMs: s.Ctime, &row.ResponseTimeMs: s.Rtime, &row.TotalTimeMs: s.Ttime,
	} {
		if src != nil {
			*dst = *src
		}
	}
	return row
}
