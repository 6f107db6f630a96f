// Package freeport finds TCP ports on 127.0.0.1 for servers the project
// starts itself (app instances, test HAProxy and InfluxDB): loopback only.
package freeport

import (
	"fmt"
	"net"
)

// Get returns a TCP port on 127.0.0.1 that was free a moment ago. The
// caller binds it soon after; another process may still take it first.
func Get() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
