package feedback

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/shadowscale/shadowscale/inference"
	"github.com/shadowscale/shadowscale/metrics"
	"github.com/shadowscale/shadowscale/scheduler"
)

// Field names of the forecast and forecast_error records beyond the
// schema's shared ones.
const (
	fieldStep        = "step_s"      // forecast step, seconds
	fieldOrigin      = "origin"      // Unix seconds the forecast was made from
	fieldCalP10      = "cal_p10"     // the band the planner used, when calibrated
	fieldCalP90      = "cal_p90"     //
	fieldActual      = "actual"      // forecast_error: what happened
	fieldCoveredP90  = "covered_p90" // actual <= p90
	fieldCalCovered  = "cal_covered" // the same for the calibrated band
	fieldCalCovP90   = "cal_covered_p90"
	fieldSNaiveError = "snaive_abs_error" // |actual - actual one season before|
	fieldMissing     = "missing"          // 1: no actual arrived in time
)

// forecastRecords turns one forecast into one record per step. A record's
// time is its target (the window Start + i*Step) and horizon_s its lead,
// (i+1)*Step, as a tag as in forecast_error: the steps of one forecast and
// the forecasts of successive origins for one target must be distinct
// series. used, when not nil, is the band the planner sized to.
func forecastRecords(lb, model string, raw inference.Forecast, used *inference.Forecast) []metrics.Record {
	out := make([]metrics.Record, 0, len(raw.P90))
	for i := range raw.P90 {
		f := map[string]float64{
			metrics.FieldP10: raw.P10[i], metrics.FieldP50: raw.P50[i], metrics.FieldP90: raw.P90[i],
			fieldStep: raw.Step.Seconds(), fieldOrigin: float64(raw.Start.Unix()),
		}
		if used != nil && i < len(used.P90) {
			f[fieldCalP10], f[fieldCalP90] = used.P10[i], used.P90[i]
		}
		out = append(out, metrics.Record{
			Measurement: metrics.MeasForecast, Time: raw.Start.Add(time.Duration(i) * raw.Step),
			Tags:   map[string]string{metrics.TagLB: lb, metrics.TagModel: model, metrics.TagHorizon: lead(raw.Step, i)},
			Fields: f,
		})
	}
	return out
}

func lead(step time.Duration, i int) string {
	return strconv.FormatInt(int64(time.Duration(i+1)*step/time.Second), 10)
}

// actionRecord is one scheduler decision with its numbers and its reason
// (the Reason as JSON).
func actionRecord(tr scheduler.TickRecord) metrics.Record {
	p := tr.Plan
	reason, _ := json.Marshal(p.Reason)
	decision := p.Decision
	if decision == "" {
		decision = "none"
	}
	return metrics.Record{
		Measurement: metrics.MeasAction, Time: tr.At, Tags: map[string]string{metrics.TagLB: tr.LB},
		Fields: map[string]float64{"needed": float64(p.Needed), "current": float64(p.Current),
			"pool": float64(p.Pool), "deficit": float64(p.Deficit)},
		Text: map[string]string{"decision": decision, metrics.TextReason: string(reason)},
	}
}

// modelOf names what produced a forecast: the forecast's own model label
// (an ONNX model's name-version, or the baseline it fell back to), else the
// forecaster's name.
func modelOf(f inference.Forecast, forecaster string) string {
	if f.Model != "" {
		return f.Model
	}
	if forecaster != "" {
		return forecaster
	}
	return "unknown"
}
