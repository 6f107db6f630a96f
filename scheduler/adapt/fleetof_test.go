package adapt_test

import (
	"testing"

	"github.com/shadowscale/shadowscale/haproxy"
)

// fleetOf makes the fleet of the given nodes (a single HAProxy is a fleet
// of one).
func fleetOf(t testing.TB, nodes ...haproxy.Node) *haproxy.Fleet {
	t.Helper()
	f, err := haproxy.NewFleet(nil, nodes...)
	if err != nil {
		t.Fatal(err)
	}
	return f
}
