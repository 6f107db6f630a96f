// Package freeport finds TCP ports on 127.0.0.1 for servers the project
// starts itself (app instances, test HAProxy, InfluxDB, etcd): loopback only.
package freeport

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
)

// rangeFile holds the kernel's ephemeral port range ("LOW\tHIGH").
const rangeFile = "/proc/sys/net/ipv4/ip_local_port_range"

// floor is the lowest port handed out: above the well-known and most
// registered service ports.
const floor = 10000

// Get returns a TCP port on 127.0.0.1 that was free a moment ago. The
// caller binds it soon after. The port lies below the kernel's ephemeral
// range when there is room: a port from bind(":0") is one the kernel also
// hands to outgoing connections and to every other bind(":0"), so under
// load tests it is often taken again before the caller binds it.
func Get() (int, error) {
	if low := ephemeralLow(); low-floor >= 1000 {
		for range 100 {
			p := floor + rand.IntN(low-floor)
			if free(p) {
				return p, nil
			}
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// ephemeralLow is the first port of the ephemeral range, or 0 if unknown.
func ephemeralLow() int {
	b, err := os.ReadFile(rangeFile)
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return 0
	}
	low, err := strconv.Atoi(f[0])
	if err != nil {
		return 0
	}
	return low
}

func free(port int) bool {
	ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		return false
	}
	ln.Close()
	return true
}
