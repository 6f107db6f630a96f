// Package sim is the backtest: a discrete-time simulator of one load
// balancer and its instances that replays a demand trace walk-forward and
// scores scaling policies on it. The predictive policy is shadowscale's own
// scheduler (scheduler.New and RunOnce at the simulator's clock), driven
// through its Driver, Provider, History and StateStore interfaces — the
// simulator never re-implements the planner or the pool state machine.
//
// # Time and demand
//
// The simulator ticks at the scheduler's tick (Settings.Tick, default 60 s).
// The trace is put on that grid (epoch-aligned, as the metrics store
// aligns its windows): a trace value is the mean rate over its own step, so
// a coarser trace is held over the ticks of its step and a finer one is
// averaged into each tick. Values are read as requests per second. At the
// tick at now the cluster serves demand(now) during [now, now+tick); the
// scheduler and the reactive autoscaler see only the ticks that ended at or
// before now (walk-forward: a History never returns demand of now or later).
// The first Skip of the trace only feeds the history; every figure is
// counted after it.
//
// # Cluster model
//
// Every instance serves at most Capacity requests/s when warm. It boots for
// Boot (taking no traffic), then is cold until it has served traffic for
// Warmup: a cold instance's service time is ColdFactor times longer (so its
// capacity is Capacity/ColdFactor) and ColdErrorRate of its requests fail.
//
// HAProxy splits a load balancer's requests between the primary and the
// shadow backend by the shadow share (percent, as the map-driven use_backend
// rule does: share/100 of requests in expectation), and within a backend
// round-robin with equal weights: every serving server receives the same
// request rate whatever its speed, so cold servers saturate first — except
// that the shadow servers ramp their weight from 0 to full over
// Config.SlowStart once set ready (HAProxy's slowstart, which serve's
// predictive policy gives the servers it adds: the providers' longest
// warm-up; `shadowscale backtest` sets the simulated warm-up). Requests
// sent to a backend with no serving server fail (HAProxy's 503).
//
// Each group of like servers of a backend (warm or cold) is an M/M/c queue
// with c = servers × Workers: utilisation rho = rate / (servers × capacity),
// mean service time ServiceTime (× ColdFactor when cold). Latency is the
// service time plus the Erlang-C queueing delay; the tick's p99 is taken over
// the mixture of every group's response-time distribution, weighted by the
// requests it served. A group at rho >= 1 serves its capacity, its requests
// wait the queue timeout (QueueTimeout) and the rest fail: those are the
// excess requests. Each tick is taken as a steady state (no backlog carries
// over).
//
// # Policies
//
//   - reactive: target tracking as Kubernetes' HPA does it. Every
//     ReactiveEval (one tick at least) the utilisation the instances reported
//     over the previous tick (busy fraction, at most 100 %, the metric lag)
//     sets desired = ceil(serving × utilisation / Target) unless within
//     Tolerance of the target; scale-up adds at most max(4, 100 %) instances
//     per evaluation, scale-down takes the largest desired of the last
//     ScaleDownWindow (stabilisation). New instances boot, then take traffic
//     cold.
//   - predictive: the primary backend has a fixed number of warm instances
//     (Primary, by default the instances the median demand of the skipped
//     history needs at the scheduler's headroom); the scheduler opens,
//     warms (with its live-traffic share), cuts over to and drains a shadow
//     pool whose instances come from the simulated provider.
//   - oracle: perfect foresight with the same delays: at every tick the
//     fewest instances that keep the next Boot+Warmup free of violations are
//     running, started Boot+Warmup before they serve and warmed by a
//     trickle of traffic that costs nothing; surplus instances stop at once.
//     Its instance-hours are the cost floor at zero violations.
//
// # Scores
//
// A violation minute is a minute whose p99 exceeds SLO.P99 or whose error
// rate exceeds SLO.MaxErrorRate; an under-provisioned minute one whose
// demand exceeds the ready capacity (warm and cold serving instances at
// their current capacity, whether or not the traffic split uses them).
// Instance-hours count every instance from creation to destruction,
// booting and warming included.
//
// Forecasting at every tick is the scheduler's contract, but refitting
// Holt-Winters on days of minutes at each of tens of thousands of ticks is
// slow; ForecastEvery lets the forecaster run at an interval and the
// scheduler use the last forecast, advanced to the current tick, in between.
// At ForecastEvery = Tick every tick forecasts, exactly as serve does.
// Real forecasts are prefetched on every core: the history at an origin is
// the trace before it, whatever the policies did.
//
// # Use
//
//	d, _ := sim.OnGrid(trace, settings.Tick) // a metrics.Regular
//	rep, err := sim.Run(ctx, sim.Config{
//		Demand: d, Cluster: sim.Cluster{Capacity: 50, Boot: 3 * time.Minute, Warmup: 2 * time.Minute},
//		Settings: settings, // scheduler.Settings with one LB, Tick = d.Step
//		Fallback: inference.HoltWinters{}, HistoryWindow: 8 * 24 * time.Hour,
//		ForecastEvery: 10 * time.Minute, Skip: 4 * 24 * time.Hour,
//	})
//
// rep.Results holds one Result per policy (reactive, predictive, oracle);
// `shadowscale backtest` is this plus flags, a table and a chart.
package sim
