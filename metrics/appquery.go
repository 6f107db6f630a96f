package metrics

import (
	"errors"
	"strings"
)

// App metric queries are Flux text a user configures per load balancer
// (CPU, memory, database rates that e.g. Telegraf writes). They use the
// placeholders InfluxDB's and Grafana's editors use, which the store
// replaces with literals before running the query:
//
//	v.timeRangeStart, v.timeRangeStop   the bounded range asked for
//	v.windowPeriod                      the step asked for
//
// e.g. from(bucket: "telegraf") |> range(start: v.timeRangeStart, stop: v.timeRangeStop)
//
//	|> filter(fn: (r) => r._measurement == "cpu" and r._field == "usage_user")
//
// The store then averages each returned table per step window
// (createEmpty: false), so the query need not aggregate itself.
const (
	PlaceholderStart  = "v.timeRangeStart"
	PlaceholderStop   = "v.timeRangeStop"
	PlaceholderWindow = "v.windowPeriod"
)

// ValidateAppQuery refuses a query that could read an unbounded range: it
// must call range() with both placeholders.
func ValidateAppQuery(flux string) error {
	switch {
	case strings.TrimSpace(flux) == "":
		return errors.New("app query is empty")
	case !strings.Contains(flux, "range("):
		return errors.New("app query has no range(): it must read range(start: v.timeRangeStart, stop: v.timeRangeStop)")
	case !strings.Contains(flux, PlaceholderStart) || !strings.Contains(flux, PlaceholderStop):
		return errors.New("app query must bound its range with v.timeRangeStart and v.timeRangeStop (Flux in InfluxDB 1.8 has no memory limit)")
	}
	return nil
}
