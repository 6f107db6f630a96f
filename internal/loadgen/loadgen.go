// Package loadgen is a bounded HTTP load generator for tests and the demo.
// It sends requests at a fixed rate (or as fast as its workers allow) to a
// loopback target only, stops at a duration or a request count, and reports
// what the clients saw: errors by kind, latency percentiles and, optionally,
// how responses split over the values of one response header (the share of
// traffic each app instance served).
package loadgen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sort"
	"sync"
	"time"
)

// Config bounds one run. At least one of Duration and MaxRequests must be set.
type Config struct {
	// Target is the URL requested (GET); its host must be a loopback address.
	Target string
	// Rate is requests per second; 0 sends as fast as Concurrency allows.
	Rate float64
	// Duration stops the run after this long (0: no time bound).
	Duration time.Duration
	// MaxRequests stops the run after this many requests (0: no count bound).
	MaxRequests int
	// Concurrency is the number of workers (default 16).
	Concurrency int
	// Timeout bounds each request (default 5s).
	Timeout time.Duration
	// CountHeader, when set, counts responses by the value of this header.
	CountHeader string
	// RateAt, when set, replaces Rate: the request rate (req/s) at each
	// moment of the run, for replaying a traffic trace.
	RateAt func(elapsed time.Duration) float64
	// Observe, when set, is called with every request's outcome (from the
	// workers, concurrently).
	Observe func(Outcome)
}

// Outcome is one request as the client saw it.
type Outcome struct {
	Start   time.Time
	Latency time.Duration
	Kind    string // "" when OK, else a Kind* constant
	Header  string // the CountHeader value of a successful response
	Cold    bool   // the response carried X-Cold (a cold instance served it)
}

// Result is what the clients saw.
type Result struct {
	Requests int            `json:"requests"`
	OK       int            `json:"ok"`
	Errors   map[string]int `json:"errors"` // by kind, see Kind* constants
	// ByHeader counts successful responses by the CountHeader value.
	ByHeader map[string]int `json:"by_header,omitempty"`
	Elapsed  time.Duration  `json:"elapsed_ns"`
	P50      time.Duration  `json:"p50_ns"`
	P90      time.Duration  `json:"p90_ns"`
	P99      time.Duration  `json:"p99_ns"`
	Max      time.Duration  `json:"max_ns"`
}

// Error kinds counted in Result.Errors.
const (
	KindRefused = "conn_refused"
	KindReset   = "conn_reset"
	KindEOF     = "eof"
	KindTimeout = "timeout"
	KindHTTP5xx = "http_5xx"
	KindHTTP4xx = "http_4xx"
	KindOther   = "other"
)

// ErrorCount is the total number of failed requests.
func (r Result) ErrorCount() int {
	n := 0
	for _, c := range r.Errors {
		n += c
	}
	return n
}

// Share is the fraction (0–1) of successful responses whose CountHeader
// value is one of values.
func (r Result) Share(values ...string) float64 {
	total, hit := 0, 0
	for v, c := range r.ByHeader {
		total += c
		for _, w := range values {
			if v == w {
				hit += c
			}
		}
	}
	if total == 0 {
		return 0
	}
	return float64(hit) / float64(total)
}

// Validate checks the configuration and that the target is loopback.
func (c Config) Validate() error {
	if c.Duration <= 0 && c.MaxRequests <= 0 {
		return errors.New("loadgen: unbounded run: set Duration or MaxRequests")
	}
	if c.Rate < 0 || c.Concurrency < 0 || c.MaxRequests < 0 || c.Duration < 0 || c.Timeout < 0 {
		return fmt.Errorf("loadgen: negative rate, concurrency, requests, duration or timeout in %+v", c)
	}
	return CheckLoopback(c.Target)
}

// CheckLoopback refuses any target whose host is not a loopback address.
func CheckLoopback(target string) error {
	u, err := url.Parse(target)
	if err != nil {
		return fmt.Errorf("loadgen: target %q: %w", target, err)
	}
	if u.Scheme != "http" {
		return fmt.Errorf("loadgen: target %q: scheme must be http", target)
	}
	host := u.Hostname()
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("loadgen: target %q: host %q is not a loopback address", target, host)
	}
	return nil
}

// Run sends the load and returns what the clients saw. It returns early,
// with the partial result, when ctx is canceled.
func Run(ctx context.Context, cfg Config) (Result, error) {
	if err := cfg.Validate(); err != nil {
		return Result{}, err
	}
	if cfg.Concurrency == 0 {
		cfg.Concurrency = 16
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 5 * time.Second
	}
	if cfg.Duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, cfg.Duration)
		defer cancel()
	}
	tr := &http.Transport{
		MaxIdleConnsPerHost: cfg.Concurrency,
		DisableCompression:  true,
		Proxy:               nil,
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: cfg.Timeout}

	jobs := make(chan struct{})
	rec := newRecorder(cfg.CountHeader)
	var wg sync.WaitGroup
	for range cfg.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range jobs {
				o := do(client, cfg.Target, cfg.CountHeader)
				rec.add(o)
				if cfg.Observe != nil {
					cfg.Observe(o.public())
				}
			}
		}()
	}
	start := time.Now()
	dispatch(ctx, cfg, start, jobs)
	close(jobs)
	wg.Wait()
	return rec.result(time.Since(start)), nil
}

// dispatch paces jobs: request i is due at start + i/rate. When all workers
// are busy it blocks, so an overloaded target slows the generator down
// rather than piling up goroutines.
func dispatch(ctx context.Context, cfg Config, start time.Time, jobs chan<- struct{}) {
	due := start
	for i := 0; cfg.MaxRequests == 0 || i < cfg.MaxRequests; i++ {
		if cfg.RateAt != nil {
			due = nextDue(due, start, cfg.RateAt)
		} else if cfg.Rate > 0 {
			due = start.Add(time.Duration(float64(i) / cfg.Rate * float64(time.Second)))
		}
		if cfg.Rate > 0 || cfg.RateAt != nil {
			if d := time.Until(due); d > 0 {
				t := time.NewTimer(d)
				select {
				case <-ctx.Done():
					t.Stop()
					return
				case <-t.C:
				}
			}
		}
		select {
		case <-ctx.Done():
			return
		case jobs <- struct{}{}:
		}
	}
}

// nextDue is when the request after one due at prev is due under a varying
// rate; where the rate is zero it looks ahead in 100ms steps (a minute at
// most: the run's context ends a longer silence) until traffic resumes.
func nextDue(prev, start time.Time, rateAt func(time.Duration) float64) time.Time {
	t := prev
	for range 600 {
		if r := rateAt(t.Sub(start)); r > 0 {
			return t.Add(time.Duration(float64(time.Second) / r))
		}
		t = t.Add(100 * time.Millisecond)
	}
	return t
}

type outcome struct {
	start   time.Time
	latency time.Duration
	kind    string // "" when OK
	header  string
	cold    bool
}

func (o outcome) public() Outcome {
	return Outcome{Start: o.start, Latency: o.latency, Kind: o.kind, Header: o.header, Cold: o.cold}
}

func do(client *http.Client, target, countHeader string) outcome {
	t0 := time.Now()
	resp, err := client.Get(target)
	if err != nil {
		return outcome{start: t0, latency: time.Since(t0), kind: Classify(err)}
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	o := outcome{start: t0, latency: time.Since(t0), cold: resp.Header.Get("X-Cold") != ""}
	switch {
	case err != nil:
		o.kind = Classify(err)
	case resp.StatusCode >= 500:
		o.kind = KindHTTP5xx
	case resp.StatusCode >= 400:
		o.kind = KindHTTP4xx
	case countHeader != "":
		o.header = resp.Header.Get(countHeader)
	}
	return o
}

type recorder struct {
	mu        sync.Mutex
	latencies []time.Duration
	res       Result
}

func newRecorder(countHeader string) *recorder {
	r := &recorder{res: Result{Errors: map[string]int{}}}
	if countHeader != "" {
		r.res.ByHeader = map[string]int{}
	}
	return r
}

func (r *recorder) add(o outcome) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.res.Requests++
	r.latencies = append(r.latencies, o.latency)
	if o.kind != "" {
		r.res.Errors[o.kind]++
		return
	}
	r.res.OK++
	if r.res.ByHeader != nil {
		r.res.ByHeader[o.header]++
	}
}

func (r *recorder) result(elapsed time.Duration) Result {
	r.mu.Lock()
	defer r.mu.Unlock()
	res := r.res
	res.Elapsed = elapsed
	sort.Slice(r.latencies, func(i, j int) bool { return r.latencies[i] < r.latencies[j] })
	res.P50 = Percentile(r.latencies, 0.50)
	res.P90 = Percentile(r.latencies, 0.90)
	res.P99 = Percentile(r.latencies, 0.99)
	res.Max = Percentile(r.latencies, 1)
	return res
}

// Percentile returns the nearest-rank q-quantile (0 < q ≤ 1) of sorted
// durations, or 0 for none.
func Percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.5) - 1
	i = max(0, min(i, len(sorted)-1))
	return sorted[i]
}
