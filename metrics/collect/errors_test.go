package collect

import (
	"context"
	"testing"

	"github.com/shadowscale/shadowscale/haproxy"
)

type statsOf haproxy.Stats

func (s statsOf) Stats(context.Context) (haproxy.Stats, error) { return haproxy.Stats(s), nil }

// TestErrorsAreTheGatesErrors: the collector counts failed requests as the
// health gate does (haproxy.StatRow.Errors): 5xx answers plus connection
// and response errors, not 5xx alone.
func TestErrorsAreTheGatesErrors(t *testing.T) {
	row := haproxy.StatRow{Type: "backend", Proxy: "app", Requests: 100, Hrsp5xx: 3, ConnErrors: 2, RespErrors: 1}
	rows, err := FromHAProxy(statsOf{Backends: []haproxy.StatRow{row}}).ReadStats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got, want := rows[0].Total.Errors, uint64(row.Errors()); got != want || want != 6 {
		t.Fatalf("collector errors %d, gate's definition %d (want 6)", got, want)
	}
}
