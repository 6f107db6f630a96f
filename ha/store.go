package ha

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/shadowscale/shadowscale/scheduler"
)

// opTimeout bounds one etcd request of the stores.
const opTimeout = 5 * time.Second

// doc is one JSON document in etcd written only by the leader: every Put
// is a transaction on the leader's fence and on the document's revision as
// this replica last read or wrote it, so a stale leader's write fails
// instead of overwriting the new leader's.
type doc struct {
	r   *Replica
	key string

	mu  sync.Mutex
	rev int64 // mod revision last seen; 0 = absent
}

func (d *doc) load(ctx context.Context, v any) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	resp, err := d.r.cli.Get(ctx, d.key)
	if err != nil {
		return false, fmt.Errorf("ha: read %s: %w", d.key, err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(resp.Kvs) == 0 {
		d.rev = 0
		return false, nil
	}
	d.rev = resp.Kvs[0].ModRevision
	if err := json.Unmarshal(resp.Kvs[0].Value, v); err != nil {
		return false, fmt.Errorf("ha: %s: %w", d.key, err)
	}
	return true, nil
}

func (d *doc) save(ctx context.Context, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("ha: encode %s: %w", d.key, err)
	}
	fence, err := d.r.fence()
	if err != nil {
		return fmt.Errorf("ha: write %s: %w", d.key, err)
	}
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	d.mu.Lock()
	defer d.mu.Unlock()
	same := clientv3.Compare(clientv3.ModRevision(d.key), "=", d.rev)
	resp, err := d.r.cli.Txn(ctx).If(fence, same).Then(clientv3.OpPut(d.key, string(b))).Commit()
	if err != nil {
		return fmt.Errorf("ha: write %s: %w", d.key, err)
	}
	if !resp.Succeeded {
		return fmt.Errorf("ha: write %s refused (leadership or revision %d changed): %w", d.key, d.rev, ErrNotLeader)
	}
	d.rev = resp.Header.Revision
	return nil
}

// StateStore is the scheduler's state in etcd (scheduler.StateStore).
type StateStore struct{ d *doc }

var _ scheduler.StateStore = (*StateStore)(nil)

// NewStateStore keeps the scheduler's state at prefix + "state".
func NewStateStore(r *Replica) *StateStore {
	return &StateStore{d: &doc{r: r, key: r.set.Prefix + "state"}}
}

// Load implements scheduler.StateStore.
func (s *StateStore) Load(ctx context.Context) (scheduler.State, error) {
	var st scheduler.State
	if _, err := s.d.load(ctx, &st); err != nil {
		return scheduler.State{}, err
	}
	return st, nil
}

// Save implements scheduler.StateStore; it fails with ErrNotLeader once
// this replica is no longer the leader or another write came in between.
func (s *StateStore) Save(ctx context.Context, st scheduler.State) error {
	return s.d.save(ctx, st)
}

// Records is one provider's record in etcd (provision.Records), so that a
// new leader's provider lists what the old leader's created.
type Records struct{ d *doc }

// NewRecords keeps provider name's record at prefix + "provider/" + name.
func NewRecords(r *Replica, name string) *Records {
	return &Records{d: &doc{r: r, key: r.set.Prefix + "provider/" + name}}
}

// Load implements provision.Records.
func (p *Records) Load(v any) error {
	_, err := p.d.load(context.Background(), v)
	return err
}

// Save implements provision.Records.
func (p *Records) Save(v any) error { return p.d.save(context.Background(), v) }
