package scheduler

import (
	"slices"
	"testing"
)

// A check with no result yet (HAProxy restarted) must not roll back a
// serving pool, but must not count as healthy for leaving Provisioning.
func TestUnhealthy(t *testing.T) {
	listed := []Server{
		{Name: "a", Healthy: true, Check: "L7OK"},
		{Name: "b", Pending: true, Check: "INI"},
		{Name: "c", Check: "L4CON"},
	}
	for _, c := range []struct {
		names     []string
		pendingOK bool
		want      []string
	}{
		{[]string{"a", "b"}, true, nil},
		{[]string{"a", "b"}, false, []string{"b=INI"}},
		{[]string{"a", "c"}, true, []string{"c=L4CON"}},
		{[]string{"a", "gone"}, true, []string{"gone=missing"}},
	} {
		if got := unhealthy(c.names, listed, c.pendingOK); !slices.Equal(got, c.want) {
			t.Errorf("unhealthy(%v, pendingOK=%v) = %v, want %v", c.names, c.pendingOK, got, c.want)
		}
	}
}
