package collect

import (
	"context"
	"errors"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shadowscale/shadowscale/metrics"
	"github.com/shadowscale/shadowscale/metrics/embedded"
)

// script replays a sequence of stats snapshots, one per read.
type script struct {
	snaps [][]Row
	errAt map[int]error
	n     int
}

func (s *script) ReadStats(ctx context.Context) ([]Row, error) {
	i := s.n
	s.n++
	if err := s.errAt[i]; err != nil {
		return nil, err
	}
	return s.snaps[min(i, len(s.snaps)-1)], nil
}

func be(proxy string, req uint64) Row {
	return Row{Type: "backend", Proxy: proxy, Total: Counters{Requests: req, Sessions: req}, Sessions: 3, Queue: 1, ResponseTimeMs: 12}
}
func srv(proxy, name string, req uint64) Row {
	return Row{Type: "server", Proxy: proxy, Server: name, Total: Counters{Requests: req, Sessions: req}}
}
func fe(proxy string, req uint64) Row {
	return Row{Type: "frontend", Proxy: proxy, Total: Counters{Requests: req, Sessions: req}}
}

func TestCollectorAcrossReloadAndChangingServers(t *testing.T) {
	t0 := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	now := t0
	clock := func() time.Time { return now }
	web := &script{snaps: [][]Row{
		{fe("fe", 0), be("web", 0), srv("web", "s1", 0), be("other", 0)},
		{fe("fe", 1000), be("web", 1000), srv("web", "s1", 600), srv("web", "s2", 0), be("other", 99999)},
		{fe("fe", 2000), be("web", 2000), srv("web", "s1", 1100), srv("web", "s2", 500)},
		{fe("fe", 150), be("web", 150), srv("web", "s1", 70), srv("web", "s2", 80)}, // reload
		{fe("fe", 1150), be("web", 1150), srv("web", "s1", 570)},                    // s2 gone
		{fe("fe", 2150), be("web", 2150), srv("web", "s1", 1070), srv("web", "s2", 10)},
	}}
	broken := &script{errAt: map[int]error{0: errors.New("socket gone"), 1: errors.New("socket gone")}, snaps: [][]Row{{be("api", 5)}}}
	store, err := embedded.Open(filepath.Join(t.TempDir(), "m.db"), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	targets := []Target{{LB: "web", Reader: web, Proxies: []string{"fe", "web", "web_shadow"}}, {LB: "api", Reader: broken, Proxies: []string{"api"}}}
	c := New(store, func() []Target { return targets }, clock, nil)
	ctx := context.Background()
	for i := 0; i < 6; i++ {
		tick := t0.Add(time.Duration(i) * 10 * time.Second)
		now = tick.Add(200 * time.Millisecond) // reads finish a little after the tick
		err := c.RunOnce(ctx, tick)
		if (i < 2) != (err != nil) {
			t.Fatalf("tick %d: error %v", i, err)
		}
		if err != nil && !strings.Contains(err.Error(), "read stats of api: socket gone") {
			t.Fatalf("tick %d: error %v should name the LB and the cause", i, err)
		}
	}
	sel, field := metrics.Demand("web")
	got, err := store.History(ctx, metrics.Query{Select: sel, Field: field, From: t0, To: t0.Add(60 * time.Second), Step: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{math.NaN(), 100, 100, math.NaN(), 100, 100} // first scrape: baseline; reload: no rate
	for i := range want {
		if !(got.Values[i] == want[i] || math.IsNaN(got.Values[i]) && math.IsNaN(want[i])) {
			t.Fatalf("web request rate %v, want %v", got.Values, want)
		}
	}
	recs, _ := store.Records(ctx, metrics.Selector{Measurement: metrics.MeasHAProxy}, t0, t0.Add(time.Hour))
	for _, r := range recs {
		if r.Tags[metrics.TagBackend] == "other" {
			t.Fatalf("a proxy of no target was recorded: %+v", r)
		}
		for k, v := range r.Fields {
			if v < 0 || strings.HasSuffix(k, "_rate") && v > 200 {
				t.Fatalf("negative or spiking %s=%v in %+v", k, v, r)
			}
		}
		if r.Tags[metrics.TagServer] == "s2" && r.Time.Equal(t0.Add(50*time.Second)) {
			if _, ok := r.Fields[metrics.FieldReqRate]; ok {
				t.Fatalf("s2 came back and got a rate over its absence: %+v", r)
			}
		}
	}
	fes, _ := store.Latest(ctx, metrics.Selector{Measurement: metrics.MeasHAProxy, Tags: map[string]string{metrics.TagServer: metrics.ServerFrontend}}, t0, t0.Add(time.Hour))
	if len(fes) != 1 || fes[0].Tags[metrics.TagBackend] != "fe" || fes[0].Fields[metrics.FieldReqRate] != 100 {
		t.Fatalf("frontend row: %+v", fes)
	}
	st := c.Status()
	if st.Scrapes != 6 || st.Errors != 2 || st.Resets != 4 || st.LastLag != 200*time.Millisecond || !st.LastTick.Equal(t0.Add(50*time.Second)) {
		t.Fatalf("status %+v", st)
	}
}

func TestCollectorReportsWriteErrors(t *testing.T) {
	t0 := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	c := New(failingSink{}, func() []Target {
		return []Target{{LB: "web", Reader: &script{snaps: [][]Row{{be("web", 1)}}}, Proxies: []string{"web"}}}
	}, func() time.Time { return t0 }, nil)
	err := c.RunOnce(context.Background(), t0)
	if err == nil || !strings.Contains(err.Error(), "write 1 stats records: disk full") || c.Status().Errors != 1 {
		t.Fatalf("error %v, status %+v", err, c.Status())
	}
}

type failingSink struct{}

func (failingSink) Write(context.Context, ...metrics.Record) error { return errors.New("disk full") }
