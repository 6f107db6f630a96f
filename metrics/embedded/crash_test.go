package embedded

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/shadowscale/shadowscale/metrics"
	bolt "go.etcd.io/bbolt"
)

// writerEnv makes the test binary act as a writer process that prints the
// number of points committed after each batch.
const writerEnv = "SHADOWSCALE_EMBEDDED_WRITER"

func TestMain(m *testing.M) {
	if path := os.Getenv(writerEnv); path != "" {
		os.Exit(runWriter(path))
	}
	code := m.Run()
	if weekDir != "" {
		os.RemoveAll(weekDir)
	}
	os.Exit(code)
}

func runWriter(path string) int {
	s, err := Open(path, Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	const batch = 200
	for n := 0; n < 10_000_000; n += batch { // bounded; the parent kills it long before
		recs := make([]metrics.Record, batch)
		for i := range recs {
			recs[i] = rate("web", "web", t0.Add(time.Duration(n+i)*time.Second), float64(n+i))
		}
		if err := s.Write(context.Background(), recs...); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		fmt.Println(n + batch)
	}
	return 0
}

func TestKillDashNineLeavesReadableStore(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.db")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), writerEnv+"="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Kill in the middle of the writes: after a number of acknowledged
	// batches, without waiting, so a transaction is in flight.
	committed := 0
	sc := bufio.NewScanner(out)
	for sc.Scan() && committed < 20_000 {
		committed, _ = strconv.Atoi(sc.Text())
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	if committed == 0 {
		t.Fatal("writer acknowledged nothing")
	}

	s := open(t, path, Options{})
	check := s.db.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			return err
		}
		return nil
	})
	if check != nil {
		t.Fatalf("consistency check after kill -9: %v", check)
	}
	sel, _ := metrics.Demand("web")
	got, err := s.Records(context.Background(), sel, t0, t0.Add(100*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) < committed {
		t.Fatalf("store has %d points, the writer had committed %d", len(got), committed)
	}
	for i, r := range got {
		if r.Fields[metrics.FieldReqRate] != float64(i) {
			t.Fatalf("point %d has value %v", i, r.Fields[metrics.FieldReqRate])
		}
	}
	t.Logf("killed after %d acknowledged points; store holds %d", committed, len(got))
}

// mkTemp makes a directory that outlives one benchmark run (benchmarks
// re-run their function with growing b.N); TestMain removes it.
func mkTemp() (string, error) {
	d, err := os.MkdirTemp("", "embedded-bench-")
	weekDir = d
	return d, err
}
