package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/shadowscale/shadowscale/config"
	"github.com/shadowscale/shadowscale/ha"
	"github.com/shadowscale/shadowscale/provision"
	"github.com/shadowscale/shadowscale/scheduler"
)

// replicated is serve as one of several replicas ([ha]): a follower — the
// scheduler in dry-run over the state the leader keeps in etcd, observing
// and forecasting, changing nothing — until elected; then, for the term,
// an acting scheduler built afresh (state and provider records read from
// etcd, every HAProxy and provider change fenced by the lease) until the
// term ends; then a follower again.
type replicated struct {
	cfg      config.Config
	settings scheduler.Settings
	deps     scheduler.Deps
	cli      *clientv3.Client
	rep      *ha.Replica
	log      *slog.Logger

	mu      sync.Mutex
	current *scheduler.Scheduler
	terms   int
}

func newReplicated(ctx context.Context, cfg config.Config, set scheduler.Settings, deps scheduler.Deps, log *slog.Logger) (*replicated, error) {
	h := cfg.HA
	id := h.ReplicaID
	if id == "" {
		host, _ := os.Hostname()
		id = fmt.Sprintf("%s-%d", host, os.Getpid())
	}
	cli, err := connectEtcd(ctx, h, log)
	if err != nil {
		return nil, err
	}
	rep, err := ha.NewReplica(cli, ha.Settings{ID: id, Prefix: h.ElectionPrefix, TTL: h.LeaseTTL, Margin: h.ActingMargin}, time.Now, log)
	if err != nil {
		cli.Close()
		return nil, fmt.Errorf("[ha]: %w", err)
	}
	return &replicated{cfg: cfg, settings: set, deps: deps, cli: cli, rep: rep, log: log.With("replica", id)}, nil
}

// connectEtcd dials etcd and retries with backoff until it answers (a
// replica started before etcd waits for it); refused credentials or
// permissions on the prefix fail at once: waiting does not heal them.
func connectEtcd(ctx context.Context, h config.HA, log *slog.Logger) (*clientv3.Client, error) {
	cc := clientv3.Config{Endpoints: h.EtcdEndpoints, DialTimeout: h.DialTimeout, Username: h.Username,
		Password: h.Password, Logger: zap.NewNop(), Context: ctx}
	if h.TLSCA != "" || h.TLSCert != "" {
		t, err := etcdTLS(h)
		if err != nil {
			return nil, err
		}
		cc.TLS = t
	}
	cli, err := clientv3.New(cc)
	if err != nil {
		return nil, fmt.Errorf("[ha] etcd_endpoints: %w", err)
	}
	for backoff := time.Second; ; backoff = min(2*backoff, 30*time.Second) {
		pctx, cancel := context.WithTimeout(ctx, h.DialTimeout)
		_, err = cli.Get(pctx, h.ElectionPrefix+"leader", clientv3.WithCountOnly())
		cancel()
		switch {
		case err == nil:
			return cli, nil
		case permanent(err):
			cli.Close()
			return nil, fmt.Errorf("[ha] etcd at %s refused access to %s: %w (check username, password and the role's permissions on the prefix)",
				strings.Join(h.EtcdEndpoints, ","), h.ElectionPrefix, err)
		}
		log.Warn("etcd unreachable; retrying", "endpoints", h.EtcdEndpoints, "err", err, "in", backoff)
		select {
		case <-ctx.Done():
			cli.Close()
			return nil, fmt.Errorf("connect to etcd: %w (last error: %w)", ctx.Err(), err)
		case <-time.After(backoff):
		}
	}
}

// permanent is an etcd answer that retrying will not change.
func permanent(err error) bool {
	msg := err.Error()
	for _, s := range []string{"permission denied", "authentication failed", "user name is empty", "invalid auth token"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

func etcdTLS(h config.HA) (*tls.Config, error) {
	t := &tls.Config{MinVersion: tls.VersionTLS12}
	if h.TLSCA != "" {
		pem, err := os.ReadFile(h.TLSCA)
		if err != nil {
			return nil, fmt.Errorf("[ha] tls_ca: %w", err)
		}
		t.RootCAs = x509.NewCertPool()
		if !t.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("[ha] tls_ca: %s holds no PEM certificate", h.TLSCA)
		}
	}
	if h.TLSCert != "" {
		pair, err := tls.LoadX509KeyPair(h.TLSCert, h.TLSKey)
		if err != nil {
			return nil, fmt.Errorf("[ha] tls_cert/tls_key: %w", err)
		}
		t.Certificates = []tls.Certificate{pair}
	}
	return t, nil
}

// Close ends the etcd client (after Run has resigned).
func (r *replicated) Close() error { return r.cli.Close() }

// Run alternates follower and leader terms until ctx is done, then resigns
// so another replica takes over at once.
func (r *replicated) Run(ctx context.Context, clock scheduler.Clock) error {
	defer r.rep.Resign(context.WithoutCancel(ctx))
	for ctx.Err() == nil {
		lost, err := r.follow(ctx, clock)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			r.log.Error("ha: follower", "err", err)
			time.Sleep(time.Second)
			continue
		}
		r.lead(ctx, clock, lost)
	}
	return nil
}

// follow ticks a dry-run scheduler while campaigning; it returns when this
// replica is elected (with the term's end channel).
func (r *replicated) follow(ctx context.Context, clock scheduler.Clock) (<-chan struct{}, error) {
	sch, err := r.build(true)
	if err != nil {
		return nil, err
	}
	r.setCurrent(sch, false)
	type won struct {
		lost <-chan struct{}
		err  error
	}
	elected := make(chan won, 1)
	// The campaign runs on ctx itself: the term's lease lives as long as
	// the service, not as long as this follower phase.
	go func() {
		lost, err := r.rep.Campaign(ctx)
		elected <- won{lost, err}
	}()
	r.log.Info("ha: following", "leader", r.rep.Status(ctx).Leader)
	next := clock.Now().Truncate(r.settings.Tick).Add(r.settings.Tick)
	for {
		select {
		case w := <-elected:
			return w.lost, w.err
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-clock.After(next.Sub(clock.Now())):
		}
		if err := sch.RunOnce(ctx, next); err != nil {
			r.log.Warn("ha: follower tick", "err", err)
		}
		next = next.Add(r.settings.Tick)
	}
}

// lead runs an acting scheduler for one term: Run reconciles with what
// HAProxy and the providers have (the old leader may have died mid-step)
// and ticks until the term ends.
func (r *replicated) lead(ctx context.Context, clock scheduler.Clock, lost <-chan struct{}) {
	sch, err := r.build(false)
	if err != nil {
		r.log.Error("ha: cannot act this term", "err", err)
		r.rep.Resign(ctx)
		return
	}
	r.setCurrent(sch, true)
	tctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-lost:
			cancel()
		case <-tctx.Done():
		}
	}()
	r.log.Info("ha: leading", "term", r.termCount(), "acting_until", r.rep.ActingUntil())
	if err := sch.Run(tctx, clock); err != nil {
		r.log.Error("ha: leader", "err", err)
	}
	r.log.Info("ha: term over")
}

// build makes a scheduler over etcd: acting (fenced driver, providers and
// state) or following (dry-run, state read-only).
func (r *replicated) build(follower bool) (*scheduler.Scheduler, error) {
	provs, err := buildProviders(r.cfg, func(name string) provision.Records { return ha.NewRecords(r.rep, name) })
	if err != nil {
		return nil, err
	}
	deps, set := r.deps, r.settings
	deps.Providers = map[string]scheduler.Provider{}
	for name, p := range provs {
		deps.Providers[name] = ha.Provider{Provider: p, R: r.rep}
	}
	deps.Driver = ha.Driver{Driver: r.deps.Driver, R: r.rep, Log: r.log}
	var store scheduler.StateStore = ha.NewStateStore(r.rep)
	if follower {
		set.DryRun, store = true, readOnly{store}
	}
	deps.Store = store
	sch, err := scheduler.New(set, deps)
	if err != nil {
		return nil, fmt.Errorf("scheduler: %w", err)
	}
	return sch, nil
}

func (r *replicated) setCurrent(s *scheduler.Scheduler, leading bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.current = s
	if leading {
		r.terms++
	}
}

func (r *replicated) termCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.terms
}

// replicaStatus is serve's status with [ha]: the election and the
// scheduler this replica runs now (acting or following).
type replicaStatus struct {
	HA        ha.Status        `json:"ha"`
	Terms     int              `json:"terms"` // times this replica was elected
	Scheduler scheduler.Status `json:"scheduler"`
}

// Status reports the election and the current scheduler's status.
func (r *replicated) Status(ctx context.Context) replicaStatus {
	r.mu.Lock()
	cur, terms := r.current, r.terms
	r.mu.Unlock()
	st := replicaStatus{HA: r.rep.Status(ctx), Terms: terms}
	if cur != nil {
		st.Scheduler = cur.Status()
	}
	return st
}

// readOnly is a follower's view of the leader's state: it loads, and
// never writes (a follower's save would be refused by the fence anyway).
type readOnly struct{ scheduler.StateStore }

func (readOnly) Save(context.Context, scheduler.State) error { return nil }
