package influx

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shadowscale/shadowscale/metrics"
)

// spoolChildEnv makes the test binary a writer child: it reads commands on
// stdin ("write N", "flush") against the store its environment names and
// answers "ok" when each is done, until it is killed.
const spoolChildEnv = "SHADOWSCALE_SPOOL_CHILD"

func spoolChild() int {
	var cfg struct{ URL, DB, Dir string }
	fmt.Sscan(os.Getenv(spoolChildEnv), &cfg.URL, &cfg.DB, &cfg.Dir)
	s, err := New(Config{URL: cfg.URL, Database: cfg.DB, SpoolDir: cfg.Dir, BatchSize: 100,
		FlushInterval: 20 * time.Millisecond, MinBackoff: 50 * time.Millisecond, MaxBackoff: 200 * time.Millisecond})
	if err != nil {
		fmt.Println("error", err)
		return 1
	}
	next := 0
	for in := bufio.NewScanner(os.Stdin); in.Scan(); {
		cmd, arg, _ := strings.Cut(in.Text(), " ")
		switch cmd {
		case "write": // one Write per point: each must be on disk when it returns
			n, _ := strconv.Atoi(arg)
			for range n {
				if err := s.Write(context.Background(), rate("web", "web", t0.Add(time.Duration(next)*time.Second), float64(next))); err != nil {
					fmt.Println("error", err)
					return 1
				}
				next++
			}
		case "flush":
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			err := s.Flush(ctx)
			cancel()
			if err != nil {
				fmt.Println("error", err)
				return 1
			}
		}
		fmt.Println("ok")
	}
	return 0
}

// TestSpoolSurvivesKill: a writer sends 300 points, then InfluxDB goes
// down, the writer buffers 700 more and is killed with SIGKILL. A new store
// on the same spool, with InfluxDB back, sends exactly the 700 (none of the
// 300 again) and the database holds all 1000.
func TestSpoolSurvivesKill(t *testing.T) {
	srv, db := shared.Get(t)
	dir := t.TempDir()
	child := exec.Command(os.Args[0], "-test.run=^$")
	child.Env = append(os.Environ(), spoolChildEnv+"="+srv.URL+" "+db+" "+dir)
	stdin, _ := child.StdinPipe()
	stdout, _ := child.StdoutPipe()
	child.Stderr = os.Stderr
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	defer child.Process.Kill()
	answers := bufio.NewScanner(stdout)
	do := func(cmd string) {
		t.Helper()
		fmt.Fprintln(stdin, cmd)
		if !answers.Scan() || answers.Text() != "ok" {
			t.Fatalf("child on %q: %q %v", cmd, answers.Text(), answers.Err())
		}
	}
	do("write 300")
	do("flush")
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	do("write 700")
	if err := child.Process.Kill(); err != nil { // SIGKILL: no Close, no flush
		t.Fatal(err)
	}
	child.Wait()
	if err := srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}

	s := newStore(t, Config{URL: srv.URL, Database: db, SpoolDir: dir, BatchSize: 100, FlushInterval: 20 * time.Millisecond})
	if n := s.Stats().Buffered; n != 700 {
		t.Fatalf("replayed %d points, want the 700 buffered", n)
	}
	flush(t, s)
	if st := s.Stats(); st.Written != 700 || st.Dropped != 0 {
		t.Fatalf("after the restart: %+v, want exactly 700 written (none twice), 0 dropped", st)
	}
	got, err := s.Records(context.Background(), metrics.Selector{Measurement: metrics.MeasHAProxy}, t0, t0.Add(1000*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1000 {
		t.Fatalf("stored %d points, want 1000", len(got))
	}
	for i, r := range got {
		if r.Fields[metrics.FieldReqRate] != float64(i) {
			t.Fatalf("stored point %d is %v", i, r.Fields[metrics.FieldReqRate])
		}
	}
}
