package ha_test

import (
	"context"
	"errors"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/shadowscale/shadowscale/ha"
	"github.com/shadowscale/shadowscale/ha/etcdtest"
	"github.com/shadowscale/shadowscale/scheduler"
)

const (
	ttl    = 4 * time.Second
	margin = time.Second
)

func newReplica(t *testing.T, cli *clientv3.Client, id string) *ha.Replica {
	t.Helper()
	r, err := ha.NewReplica(cli, ha.Settings{ID: id, Prefix: "/test/", TTL: ttl, Margin: margin}, time.Now, nil)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// elect campaigns in the background and reports the term's end channel
// once elected.
func elect(ctx context.Context, r *ha.Replica) <-chan (<-chan struct{}) {
	out := make(chan (<-chan struct{}), 1)
	go func() {
		lost, err := r.Campaign(ctx)
		if err == nil {
			out <- lost
		}
	}()
	return out
}

func waitUntil(t *testing.T, what string, timeout time.Duration, cond func() bool) time.Time {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return time.Now()
}

func TestOneLeaderThenFailoverOnResign(t *testing.T) {
	srv := etcdtest.Start(t)
	ctx := t.Context()
	a, b := newReplica(t, srv.NewClient(t, srv.Client), "a"), newReplica(t, srv.NewClient(t, srv.Client), "b")
	ea := elect(ctx, a)
	<-ea
	eb := elect(ctx, b)
	time.Sleep(ttl) // b must stay a follower while a renews
	if !a.Acting() || b.Acting() {
		t.Fatalf("acting: a %v, b %v; want only a", a.Acting(), b.Acting())
	}
	if st := b.Status(ctx); st.Leader != "a" || st.Role != "follower" {
		t.Fatalf("b's status %+v, want leader a, role follower", st)
	}
	a.Resign(ctx)
	select {
	case <-eb:
	case <-time.After(5 * time.Second):
		t.Fatal("b not elected within 5s of a resigning")
	}
	if a.Acting() || !b.Acting() {
		t.Fatalf("after resign: a %v, b %v; want only b", a.Acting(), b.Acting())
	}
}

// A leader cut off from etcd stops acting before its lease can expire, so
// before the other replica can be elected; it never acts again in that term.
func TestPartitionedLeaderStopsBeforeTakeover(t *testing.T) {
	srv := etcdtest.Start(t)
	ctx := t.Context()
	proxy := srv.NewProxy(t)
	a, b := newReplica(t, srv.NewClient(t, proxy.URL), "a"), newReplica(t, srv.NewClient(t, srv.Client), "b")
	lostA := <-elect(ctx, a)
	eb := elect(ctx, b)
	time.Sleep(500 * time.Millisecond)
	cut := time.Now()
	proxy.Cut()
	stopped := waitUntil(t, "a to stop acting", 2*ttl, func() bool { return !a.Acting() })
	var elected time.Time
	select {
	case <-eb:
		elected = time.Now()
	case <-time.After(4 * ttl):
		t.Fatal("b not elected after a's lease expired")
	}
	t.Logf("cut at 0; a stopped acting at %s; b elected at %s", stopped.Sub(cut), elected.Sub(cut))
	if !stopped.Before(elected) {
		t.Fatalf("a acted until %s, after b was elected at %s", stopped.Sub(cut), elected.Sub(cut))
	}
	if stopped.Sub(cut) > ttl {
		t.Fatalf("a acted %s after the cut, longer than the lease ttl %s", stopped.Sub(cut), ttl)
	}
	proxy.Heal()
	select {
	case <-lostA:
	case <-time.After(3 * ttl):
		t.Fatal("a's term did not end after the partition")
	}
	if a.Acting() {
		t.Fatal("a acts again after its term ended")
	}
}

// A stale leader's state write is refused by etcd itself: here the
// leader's election key vanishes (as when its lease expires on the server)
// while the replica still believes it leads.
func TestStaleLeaderWriteRefused(t *testing.T) {
	srv := etcdtest.Start(t)
	ctx := t.Context()
	cli := srv.NewClient(t, srv.Client)
	a := newReplica(t, cli, "a")
	<-elect(ctx, a)
	store := ha.NewStateStore(a)
	if _, err := store.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if err := store.Save(ctx, scheduler.State{Version: 1, Seq: 1}); err != nil {
		t.Fatalf("leader's save: %v", err)
	}
	other := srv.NewClient(t, srv.Client)
	if _, err := other.Put(ctx, "/test/state", `{"version":1,"seq":7}`); err != nil {
		t.Fatal(err)
	}
	err := store.Save(ctx, scheduler.State{Version: 1, Seq: 2})
	if !errors.Is(err, ha.ErrNotLeader) {
		t.Fatalf("save over another writer's state: %v, want ErrNotLeader", err)
	}
	if _, err := store.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := other.Delete(ctx, "/test/leader/", clientv3.WithPrefix()); err != nil {
		t.Fatal(err)
	}
	if !a.Acting() {
		t.Fatal("the test needs a to still believe it leads")
	}
	err = store.Save(ctx, scheduler.State{Version: 1, Seq: 3})
	if !errors.Is(err, ha.ErrNotLeader) {
		t.Fatalf("save after the election key vanished: %v, want ErrNotLeader", err)
	}
	got, err := store.Load(ctx)
	if err != nil || got.Seq != 7 {
		t.Fatalf("state after refused writes: seq %d, %v; want 7 (the other writer's)", got.Seq, err)
	}
}

func TestFencedDriverRefusesFollower(t *testing.T) {
	srv := etcdtest.Start(t)
	r := newReplica(t, srv.NewClient(t, srv.Client), "a")
	d := ha.Driver{R: r, Log: discard()}
	if err := d.SetShare(t.Context(), "app", 5); !errors.Is(err, ha.ErrNotLeader) {
		t.Fatalf("follower's SetShare: %v, want ErrNotLeader", err)
	}
	p := ha.Provider{R: r}
	if _, err := p.Create(t.Context(), 1); !errors.Is(err, ha.ErrNotLeader) {
		t.Fatalf("follower's Create: %v, want ErrNotLeader", err)
	}
}
