package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/shadowscale/shadowscale/internal/loadgen"
)

// Second is one second of a run, as the clients and HAProxy saw it.
type Second struct {
	T        int     `json:"t"`        // seconds since the replay started
	Demand   float64 `json:"demand"`   // req/s the replay asked for
	Requests int     `json:"requests"` // sent in this second
	Errors   int     `json:"errors"`
	Cold     int     `json:"cold"` // served by a cold instance
	P99MS    float64 `json:"p99_ms"`
	Phase    string  `json:"phase"`
	Share    int     `json:"share"`
	Pool     int     `json:"pool"`    // shadow instances the provider runs
	Serving  int     `json:"serving"` // instances taking traffic: primaries + shadow servers ready and up
	ReadyCap float64 `json:"ready_capacity"`
	P10      float64 `json:"p10,omitempty"` // serve's forecast for this second, when logged
	P50      float64 `json:"p50,omitempty"`
	P90      float64 `json:"p90,omitempty"`
	// Carried: HAProxy or serve's state could not be read in this second
	// (a late tick, a busy socket); the pool fields are the last seen.
	Carried bool `json:"carried,omitempty"`
}

// measure collects per-second client outcomes and samples.
type measure struct {
	start time.Time
	mu    sync.Mutex
	lat   [][]time.Duration
	secs  []Second
}

func newMeasure(n int) *measure {
	return &measure{lat: make([][]time.Duration, n), secs: make([]Second, n)}
}

func (m *measure) observe(o loadgen.Outcome) {
	i := int(o.Start.Sub(m.start) / time.Second)
	m.mu.Lock()
	defer m.mu.Unlock()
	if i < 0 || i >= len(m.secs) {
		return
	}
	s := &m.secs[i]
	s.Requests++
	m.lat[i] = append(m.lat[i], o.Latency)
	if o.Kind != "" {
		s.Errors++
	} else if o.Cold {
		s.Cold++
	}
}

// sampleEvery records, once a second, the pool as serve persisted it and
// the shadow backend as HAProxy has it.
func (m *measure) sampleEvery(ctx context.Context, w *world, st string, rp *replay, c Config, policy string) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			if sec, ok := m.sample(now, w, st, c); ok && c.Progress != nil {
				fmt.Fprintf(c.Progress, "\r%-10s %3d/%ds  demand %4.0f req/s  %-11s pool %d  share %3d%%  serving %d  p99 %4.0f ms  errors %d   ",
					policy, sec.T+1, len(rp.Rate), rp.Rate[sec.T], sec.Phase, sec.Pool, sec.Share, sec.Serving, sec.P99MS, sec.Errors)
			}
		}
	}
}

// sample records the second that just ended; an unreadable HAProxy leaves
// it unsampled (result carries the last sample over it).
func (m *measure) sample(now time.Time, w *world, st string, c Config) (Second, bool) {
	i := int(now.Sub(m.start)/time.Second) - 1 // the second that just ended
	phase, pool := poolState(st)
	share := w.share()
	servers, err := w.shadowServers()
	if share < 0 || err != nil {
		return Second{}, false
	}
	serving := c.Primaries
	for _, s := range servers {
		if s.serving && share > 0 {
			serving++
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if i < 0 || i >= len(m.secs) {
		return Second{}, false
	}
	s := &m.secs[i]
	s.T, s.Phase, s.Share, s.Pool, s.Serving = i, phase, share, pool, serving
	s.ReadyCap = float64(serving) * c.Capacity
	lat := append([]time.Duration(nil), m.lat[i]...)
	sortDur(lat)
	s.P99MS = ms(loadgen.Percentile(lat, 0.99))
	return *s, true
}

// carryOver fills the seconds no sample reached with the nearest sample
// before them (after them for the first ones), marked Carried: a missed
// sample is not a pool gone.
func carryOver(secs []Second) {
	last := -1
	for i := range secs {
		if secs[i].Phase != "" {
			last = i
			continue
		}
		from := last
		if from < 0 {
			from = firstSampled(secs)
		}
		if from < 0 {
			return
		}
		s, src := &secs[i], secs[from]
		s.Phase, s.Share, s.Pool, s.Serving, s.ReadyCap, s.Carried = src.Phase, src.Share, src.Pool, src.Serving, src.ReadyCap, true
	}
}

func firstSampled(secs []Second) int {
	for i, s := range secs {
		if s.Phase != "" {
			return i
		}
	}
	return -1
}

// poolState reads serve's persisted state: the pool's phase and size.
func poolState(st string) (string, int) {
	var state struct {
		LBs map[string]struct {
			Pool *struct {
				Phase     string `json:"phase"`
				Instances []any  `json:"instances"`
			} `json:"pool"`
		} `json:"lbs"`
	}
	data, err := os.ReadFile(filepath.Join(st, "scheduler.json"))
	if err != nil || json.Unmarshal(data, &state) != nil {
		return "Idle", 0
	}
	l, ok := state.LBs[lbName]
	if !ok || l.Pool == nil {
		return "Idle", 0
	}
	return l.Pool.Phase, len(l.Pool.Instances)
}

// result turns the seconds into the run's figures.
func (m *measure) result(rp *replay, c Config) *Result {
	m.mu.Lock()
	defer m.mu.Unlock()
	from, to := rp.peakWindow()
	carryOver(m.secs)
	r := &Result{}
	var all, peak []time.Duration
	for i := range m.secs {
		s := &m.secs[i]
		s.T, s.Demand = i, rp.Rate[i]
		sort.Slice(m.lat[i], func(a, b int) bool { return m.lat[i][a] < m.lat[i][b] })
		s.P99MS = ms(loadgen.Percentile(m.lat[i], 0.99))
		all = append(all, m.lat[i]...)
		r.add(*s, i >= from && i < to)
		if i >= from && i < to {
			peak = append(peak, m.lat[i]...)
		}
		if s.Phase != "Idle" && s.Phase != "" {
			r.InstanceSeconds += float64(s.Pool)
		}
		r.InstanceSeconds += float64(c.Primaries)
	}
	sortDur(all)
	sortDur(peak)
	r.P50MS, r.P99MS = ms(loadgen.Percentile(all, 0.5)), ms(loadgen.Percentile(all, 0.99))
	r.PeakP99MS = ms(loadgen.Percentile(peak, 0.99))
	r.readyBeforePeak(m.secs, rp.PeakAt)
	r.Seconds = append([]Second(nil), m.secs...)
	return r
}

func sortDur(d []time.Duration) { sort.Slice(d, func(i, j int) bool { return d[i] < d[j] }) }

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
