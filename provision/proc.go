package provision

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
)

// procStat is what /proc/PID/stat tells about a process.
type procStat struct {
	state      byte   // R, S, D, Z (zombie), X (dead), …
	startTicks uint64 // start time since boot, in clock ticks
}

// readStat parses /proc/PID/stat. The command name (field 2) may hold
// spaces and parentheses, so fields are counted after its last ')'.
func readStat(pid int) (procStat, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procStat{}, err
	}
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return procStat{}, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	f := strings.Fields(string(data[i+1:]))
	// f[0] is field 3 (state); starttime is field 22.
	if len(f) < 20 {
		return procStat{}, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f)+2)
	}
	ticks, err := strconv.ParseUint(f[19], 10, 64)
	if err != nil {
		return procStat{}, fmt.Errorf("/proc/%d/stat: starttime: %w", pid, err)
	}
	return procStat{state: f[0][0], startTicks: ticks}, nil
}

// readCmdline returns a process's argv from /proc/PID/cmdline.
func readCmdline(pid int) ([]string, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return nil, err
	}
	return strings.Split(strings.TrimSuffix(string(data), "\x00"), "\x00"), nil
}

// isProcess reports whether pid is still the live process that was started
// at startTicks with argv: a dead, zombie or reused PID is not.
func isProcess(pid int, startTicks uint64, argv []string) bool {
	if pid <= 0 {
		return false
	}
	st, err := readStat(pid)
	if err != nil || st.state == 'Z' || st.state == 'X' || st.startTicks != startTicks {
		return false
	}
	got, err := readCmdline(pid)
	return err == nil && slices.Equal(got, argv)
}

// findByArgv finds a live process by its exact argv (local instances carry
// a unique --listen address): the PID and start time, or 0 when none runs.
func findByArgv(argv []string) (int, uint64) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0, 0
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if got, err := readCmdline(pid); err == nil && slices.Equal(got, argv) {
			if st, err := readStat(pid); err == nil && st.state != 'Z' && st.state != 'X' {
				return pid, st.startTicks
			}
		}
	}
	return 0, 0
}

// signalGroup signals the process group led by pid (local instances run in
// their own session, so pid is also the group id). A group that no longer
// exists is not an error.
func signalGroup(pid int, sig syscall.Signal) error {
	if pid <= 0 { // -0 or -(-1) would signal our own group or everything
		return fmt.Errorf("signal %s: invalid pid %d", sig, pid)
	}
	err := syscall.Kill(-pid, sig)
	if err == nil || errors.Is(err, syscall.ESRCH) {
		return nil
	}
	return fmt.Errorf("signal %s to process group %d: %w", sig, pid, err)
}
