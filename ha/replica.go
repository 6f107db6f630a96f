// Package ha runs several `serve` replicas on etcd with exactly one acting:
// a leader elected through etcd's concurrency election over a lease (as
// Kubernetes controllers do with leases), fencing so that a deposed or
// partitioned leader stops acting before its lease can have expired on the
// others, and the scheduler's state and the providers' records kept in
// etcd, every write conditional on still holding leadership.
//
// Safety rests on two mechanisms. Acting (HAProxy and provider changes,
// which etcd cannot fence) is allowed only while the lease is confirmed
// live with margin: the last TimeToLive answer, sent at t and reporting r
// seconds left, proves the lease lives until at least t + r, so the replica
// acts until t + r − margin. Writes to etcd are fenced exactly: each is a
// transaction that succeeds only while the replica's election key still
// exists at the revision it won with.
package ha

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
)

// ErrNotLeader is wrapped by every write refused because this replica does
// not hold leadership (or no longer holds it with margin).
var ErrNotLeader = errors.New("not the leader")

// Settings of one replica.
type Settings struct {
	ID     string        // this replica's name, the election value
	Prefix string        // key prefix, e.g. "/shadowscale/"
	TTL    time.Duration // lease TTL (whole seconds, >= 2s)
	// Margin is how long before the lease's proven expiry the replica
	// stops acting; it must exceed the longest single change (a tick's
	// act step), so a change begun in time also ends in time.
	Margin time.Duration
}

// CheckTiming refuses a lease and margin that cannot keep a healthy leader
// acting: etcd reports a lease's time left in whole seconds and the client
// renews it every third of its TTL, so the proven time left can fall to
// 2/3 TTL − 1s before a renewal shows; the margin must stay below that.
func CheckTiming(ttl, margin time.Duration) error {
	switch {
	case ttl < 2*time.Second || ttl%time.Second != 0:
		return fmt.Errorf("lease ttl must be whole seconds, at least 2s, got %s", ttl)
	case margin <= 0 || margin >= ttl*2/3-time.Second:
		return fmt.Errorf("acting margin must be positive and below 2/3 of the lease ttl minus 1s (%s), got %s", ttl*2/3-time.Second, margin)
	}
	return nil
}

// Replica is one serve process's membership in the election.
type Replica struct {
	cli *clientv3.Client
	set Settings
	now func() time.Time
	log *slog.Logger

	mu         sync.Mutex
	sess       *concurrency.Session
	elec       *concurrency.Election
	leading    bool
	key        string // our election key while leading
	rev        int64  // its create revision
	validUntil time.Time
	lost       chan struct{} // closed when the current term ends
}

// NewReplica wraps a connected client; now is the clock (time.Now).
func NewReplica(cli *clientv3.Client, set Settings, now func() time.Time, log *slog.Logger) (*Replica, error) {
	if set.ID == "" || set.Prefix == "" {
		return nil, fmt.Errorf("ha: replica id and prefix are required")
	}
	if err := CheckTiming(set.TTL, set.Margin); err != nil {
		return nil, fmt.Errorf("ha: %w", err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Replica{cli: cli, set: set, now: now, log: log.With("replica", set.ID)}, nil
}

// ID is this replica's name.
func (r *Replica) ID() string { return r.set.ID }

func (r *Replica) electionKey() string { return r.set.Prefix + "leader" }

// Campaign blocks until this replica is the leader or ctx is done. It opens
// a fresh session (lease) for every term, so a term that ended never
// resumes by accident. The returned channel is closed when the term ends.
func (r *Replica) Campaign(ctx context.Context) (<-chan struct{}, error) {
	sess, err := concurrency.NewSession(r.cli, concurrency.WithTTL(int(r.set.TTL/time.Second)), concurrency.WithContext(ctx))
	if err != nil {
		return nil, fmt.Errorf("ha: open session: %w", err)
	}
	elec := concurrency.NewElection(sess, r.electionKey())
	if err := elec.Campaign(ctx, r.set.ID); err != nil {
		sess.Close()
		return nil, fmt.Errorf("ha: campaign: %w", err)
	}
	lost := make(chan struct{})
	r.mu.Lock()
	r.sess, r.elec, r.leading, r.key, r.rev, r.lost = sess, elec, true, elec.Key(), elec.Rev(), lost
	r.mu.Unlock()
	if err := r.confirm(ctx); err != nil {
		r.end("lease not confirmed: " + err.Error())
		return nil, err
	}
	r.log.Info("elected leader", "key", elec.Key(), "rev", elec.Rev(), "ttl", r.set.TTL, "margin", r.set.Margin)
	go r.renew(ctx, sess, lost)
	return lost, nil
}

// confirm asks etcd how long the lease has left and moves the acting
// deadline to send time + remaining − margin.
func (r *Replica) confirm(ctx context.Context) error {
	r.mu.Lock()
	sess := r.sess
	r.mu.Unlock()
	if sess == nil {
		return ErrNotLeader
	}
	sent := r.now()
	cctx, cancel := context.WithTimeout(ctx, r.set.Margin/2)
	defer cancel()
	resp, err := r.cli.TimeToLive(cctx, sess.Lease())
	if err != nil {
		return fmt.Errorf("ha: lease time to live: %w", err)
	}
	if resp.TTL <= 0 {
		return fmt.Errorf("ha: lease %x expired: %w", sess.Lease(), ErrNotLeader)
	}
	until := sent.Add(time.Duration(resp.TTL)*time.Second - r.set.Margin)
	r.mu.Lock()
	if r.leading && until.After(r.validUntil) {
		r.validUntil = until
	}
	r.mu.Unlock()
	return nil
}

// renew confirms the lease several times per margin until the term ends:
// a failed confirmation does not end the term at once (etcd may answer the
// next one), but acting stops when the last proven deadline passes.
func (r *Replica) renew(ctx context.Context, sess *concurrency.Session, lost chan struct{}) {
	every := max(r.set.Margin/4, 100*time.Millisecond)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			r.end("stopped")
			return
		case <-sess.Done():
			r.end("session ended (lease lost)")
			return
		case <-t.C:
		}
		if err := r.confirm(ctx); err != nil {
			r.log.Warn("lease not confirmed", "err", err, "acting_until", r.ActingUntil())
			if errors.Is(err, ErrNotLeader) {
				r.end("lease expired")
				return
			}
		}
		if !r.Acting() && r.now().After(r.ActingUntil().Add(r.set.Margin)) {
			// The lease has expired on the others by now: this term is over.
			r.end("lease could not be confirmed before it expired")
			return
		}
	}
}

// end closes the current term once.
func (r *Replica) end(why string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.leading {
		return
	}
	r.leading, r.validUntil = false, time.Time{}
	close(r.lost)
	r.sess.Orphan()
	go r.sess.Close() // revokes the lease when etcd answers; harmless if gone
	r.log.Warn("leadership ended", "why", why)
}

// Resign gives up leadership (on shutdown) so a follower takes over at once.
func (r *Replica) Resign(ctx context.Context) {
	r.mu.Lock()
	elec, leading := r.elec, r.leading
	r.mu.Unlock()
	if leading && elec != nil {
		if err := elec.Resign(ctx); err != nil {
			r.log.Warn("resign", "err", err)
		}
	}
	r.end("resigned")
}

// Acting reports whether this replica may change HAProxy or providers now.
func (r *Replica) Acting() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.leading && r.now().Before(r.validUntil)
}

// ActingUntil is the proven deadline of the current term (zero if none).
func (r *Replica) ActingUntil() time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.validUntil
}

// fence is the comparison every fenced write carries: our election key
// still exists with the revision we won at.
func (r *Replica) fence() (clientv3.Cmp, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.leading || !r.now().Before(r.validUntil) {
		return clientv3.Cmp{}, fmt.Errorf("ha: replica %s: %w", r.set.ID, ErrNotLeader)
	}
	return clientv3.Compare(clientv3.CreateRevision(r.key), "=", r.rev), nil
}

// Status is what the service reports about the election.
type Status struct {
	Replica     string    `json:"replica"`
	Role        string    `json:"role"` // leader | follower
	Leader      string    `json:"leader"`
	ActingUntil time.Time `json:"acting_until,omitzero"`
	LeaseLeft   string    `json:"lease_left,omitempty"` // until acting stops, as a Go duration
}

// Status reads the current leader from etcd.
func (r *Replica) Status(ctx context.Context) Status {
	st := Status{Replica: r.set.ID, Role: "follower"}
	if r.Acting() {
		st.Role, st.ActingUntil = "leader", r.ActingUntil()
		st.LeaseLeft = st.ActingUntil.Sub(r.now()).Round(time.Millisecond).String()
	}
	cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	resp, err := r.cli.Get(cctx, r.electionKey()+"/", clientv3.WithPrefix(), clientv3.WithSort(clientv3.SortByCreateRevision, clientv3.SortAscend), clientv3.WithLimit(1))
	if err == nil && len(resp.Kvs) > 0 {
		st.Leader = string(resp.Kvs[0].Value)
	}
	return st
}
