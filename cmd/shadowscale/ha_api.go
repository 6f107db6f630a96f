package main

import (
	"context"
	"fmt"
	"time"

	"github.com/shadowscale/shadowscale/api"
	"github.com/shadowscale/shadowscale/inference"
	"github.com/shadowscale/shadowscale/scheduler"
)

// replicaAPI is the API's view of a replica: reads come from the scheduler
// it runs now (acting, or following in dry-run); control calls are taken
// only by the leader, since a follower's state is a read-only copy.
type replicaAPI struct{ r *replicated }

var _ api.Scheduler = replicaAPI{}

func (a replicaAPI) cur() *scheduler.Scheduler {
	a.r.mu.Lock()
	defer a.r.mu.Unlock()
	return a.r.current
}

// leader is the scheduler to control, or an error naming the leader.
func (a replicaAPI) leader(ctx context.Context) (*scheduler.Scheduler, error) {
	s := a.cur()
	if s == nil || !a.r.rep.Acting() {
		return nil, fmt.Errorf("replica %s follows %q: send control calls to the leader", a.r.rep.ID(), a.r.rep.Status(ctx).Leader)
	}
	return s, nil
}

func (a replicaAPI) Status() scheduler.Status {
	if s := a.cur(); s != nil {
		return s.Status()
	}
	return scheduler.Status{}
}

func (a replicaAPI) Controls(ctx context.Context) (scheduler.ControlView, error) {
	s := a.cur()
	if s == nil {
		return scheduler.ControlView{}, fmt.Errorf("replica %s: no scheduler yet", a.r.rep.ID())
	}
	return s.Controls(ctx)
}

func (a replicaAPI) Forecasts() (map[string]inference.Forecast, time.Time) {
	if s := a.cur(); s != nil {
		return s.Forecasts()
	}
	return nil, time.Time{}
}

func (a replicaAPI) Pause(ctx context.Context, lb string, now time.Time) error {
	s, err := a.leader(ctx)
	if err != nil {
		return err
	}
	return s.Pause(ctx, lb, now)
}

func (a replicaAPI) Resume(ctx context.Context, lb string) error {
	s, err := a.leader(ctx)
	if err != nil {
		return err
	}
	return s.Resume(ctx, lb)
}

func (a replicaAPI) ForceRollback(ctx context.Context, lb, reason string, now time.Time) (string, error) {
	s, err := a.leader(ctx)
	if err != nil {
		return "", err
	}
	return s.ForceRollback(ctx, lb, reason, now)
}

func (a replicaAPI) SetKillSwitch(ctx context.Context, on bool) error {
	s, err := a.leader(ctx)
	if err != nil {
		return err
	}
	return s.SetKillSwitch(ctx, on)
}

func (a replicaAPI) SetDryRun(ctx context.Context, on bool) error {
	s, err := a.leader(ctx)
	if err != nil {
		return err
	}
	return s.SetDryRun(ctx, on)
}

func (a replicaAPI) AddEvent(ctx context.Context, e scheduler.OperatorEvent) (scheduler.OperatorEvent, error) {
	s, err := a.leader(ctx)
	if err != nil {
		return scheduler.OperatorEvent{}, err
	}
	return s.AddEvent(ctx, e)
}

func (a replicaAPI) DeleteEvent(ctx context.Context, id string) error {
	s, err := a.leader(ctx)
	if err != nil {
		return err
	}
	return s.DeleteEvent(ctx, id)
}

// apiScheduler is what the API and its recorder read and control.
func (svc *service) apiScheduler() api.Scheduler {
	if svc.replicas != nil {
		return replicaAPI{svc.replicas}
	}
	return svc.sched
}
