package freeport

import (
	"net"
	"strconv"
	"testing"
)

func TestGet(t *testing.T) {
	p, err := Get()
	if err != nil || p <= 0 || p > 65535 {
		t.Fatalf("Get() = %d, %v", p, err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
	if err != nil {
		t.Fatalf("port %d is not free: %v", p, err)
	}
	ln.Close()
}

// TestGetBelowEphemeral: where the kernel's ephemeral range leaves room,
// ports come from below it, where outgoing connections never land.
func TestGetBelowEphemeral(t *testing.T) {
	low := ephemeralLow()
	if low-floor < 1000 {
		t.Skipf("%s: ephemeral range starts at %d, no room below it", rangeFile, low)
	}
	for range 20 {
		p, err := Get()
		if err != nil {
			t.Fatal(err)
		}
		if p < floor || p >= low {
			t.Fatalf("Get() = %d, want in [%d, %d)", p, floor, low)
		}
	}
}
