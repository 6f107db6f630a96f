package haproxy

import (
	"fmt"
	"strconv"
	"strings"
)

// parseServersState parses "show servers state" (format version 1):
// be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state
// srv_uweight srv_iweight … srv_port (field 18) ….
func parseServersState(out string) ([]ServerStatus, error) {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) == 0 || strings.TrimSpace(lines[0]) != "1" {
		return nil, fmt.Errorf("servers state: unsupported format (want version 1): %q", firstLine(out))
	}
	var res []ServerStatus
	for _, line := range lines[1:] {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 19 {
			return nil, fmt.Errorf("servers state: short line %q", line)
		}
		op, err1 := strconv.Atoi(f[5])
		admin, err2 := strconv.Atoi(f[6])
		weight, err3 := strconv.Atoi(f[7])
		port, err4 := strconv.Atoi(f[18])
		if err1 != nil || err2 != nil || err3 != nil || err4 != nil {
			return nil, fmt.Errorf("servers state: bad numbers in %q", line)
		}
		res = append(res, ServerStatus{
			Backend: f[1], Name: f[3], Addr: f[4], Port: port,
			Operational: opState(op), Admin: adminState(admin), Weight: weight,
		})
	}
	return res, nil
}

// adminState decodes srv_admin_state: forced/inherited/config/resolver
// maintenance bits (0x01, 0x02, 0x04, 0x20, 0x40) win over the drain bits
// (0x08, 0x10).
func adminState(bits int) State {
	switch {
	case bits&(0x01|0x02|0x04|0x20|0x40) != 0:
		return StateMaint
	case bits&(0x08|0x10) != 0:
		return StateDrain
	}
	return StateReady
}

func opState(v int) string {
	switch v {
	case 0:
		return "down"
	case 3:
		return "stopping"
	}
	return "up" // 1 starting, 2 running
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
