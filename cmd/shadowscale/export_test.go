package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shadowscale/shadowscale/metrics"
	"github.com/shadowscale/shadowscale/metrics/embedded"
)

var updateExport = flag.Bool("update-export", false, "rewrite the export golden file")

// exportStore writes 10 s request rates for web (primary + shadow) with a
// gap, and another LB that must not leak into web's trace.
func exportStore(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "metrics.db")
	s, err := embedded.Open(path, embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	t0 := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	var recs []metrics.Record
	row := func(lb, backend string, at time.Time, v float64) metrics.Record {
		return metrics.Record{Measurement: metrics.MeasHAProxy, Time: at,
			Tags:   map[string]string{metrics.TagLB: lb, metrics.TagBackend: backend, metrics.TagServer: metrics.ServerBackend},
			Fields: map[string]float64{metrics.FieldReqRate: v}}
	}
	for i := 0; i < 60; i++ {
		at := t0.Add(time.Duration(i) * 10 * time.Second)
		if i/6 == 4 {
			continue // minute 4 has no data
		}
		recs = append(recs, row("web", "web", at, float64(i)), row("other", "other", at, 1000))
		if i >= 30 {
			recs = append(recs, row("web", "web_shadow", at, 0.5))
		}
	}
	if err := s.Write(context.Background(), recs...); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestExportGolden(t *testing.T) {
	store := exportStore(t)
	var out bytes.Buffer
	err := run(context.Background(), []string{"export", "--store", store, "--lb", "web",
		"--from", "2024-03-01T12:00:00Z", "--to", "2024-03-01T12:10:00Z", "--step", "1m"}, &out)
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "export_web.golden.csv")
	if *updateExport {
		os.WriteFile(golden, out.Bytes(), 0o644)
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if out.String() != string(want) {
		t.Fatalf("export:\n%s\nwant:\n%s", out.String(), want)
	}
	// What export writes, the trace reader reads.
	tr, err := metrics.ReadTrace(bytes.NewReader(out.Bytes()), "export.csv", metrics.TraceOptions{})
	if err != nil || len(tr.Points) != 9 {
		t.Fatalf("reading the export back: %d points, %v", len(tr.Points), err)
	}
}

func TestExportJSONAndFile(t *testing.T) {
	store := exportStore(t)
	file := filepath.Join(t.TempDir(), "web.csv")
	for _, withFile := range []bool{false, true} {
		args := []string{"export", "--store", store, "--lb", "web", "--from", "2024-03-01T12:00:00Z",
			"--to", "2024-03-01T12:10:00Z", "--step", "5m", "--json"}
		if withFile {
			args = append(args, "--out", file)
		}
		var out bytes.Buffer
		if err := run(context.Background(), args, &out); err != nil {
			t.Fatal(err)
		}
		var doc exportDoc
		if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
			t.Fatalf("not one JSON document: %v\n%s", err, out.String())
		}
		if doc.Windows != 2 || doc.Rows != 2 || doc.Missing != 0 || doc.StepSeconds != 300 {
			t.Fatalf("doc %+v", doc)
		}
		if withFile {
			csv, _ := os.ReadFile(file)
			if doc.Points != nil || !strings.HasPrefix(string(csv), "timestamp,value\n2024-03-01T12:00:00Z,") {
				t.Fatalf("with --out: doc %+v, file %q", doc, csv)
			}
		} else if len(doc.Points) != 2 || doc.Points[0].T != "2024-03-01T12:00:00Z" {
			t.Fatalf("points %+v", doc.Points)
		}
	}
}

func TestExportBadInput(t *testing.T) {
	store := exportStore(t)
	base := []string{"export", "--store", store, "--lb", "web"}
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"no lb", []string{"export", "--store", store, "--from", "2024-03-01T12:00:00Z", "--to", "2024-03-01T13:00:00Z"}, "--lb is required"},
		{"bad from", append(base, "--from", "noon", "--to", "2024-03-01T13:00:00Z"), `--from "noon": not an RFC3339 time`},
		{"inverted", append(base, "--from", "2024-03-01T13:00:00Z", "--to", "2024-03-01T12:00:00Z"), "is not before --to"},
		{"bad step", append(base, "--from", "2024-03-01T12:00:00Z", "--to", "2024-03-01T13:00:00Z", "--step", "0s"), "--step 0s must be positive"},
		{"no store", []string{"export", "--lb", "web", "--from", "2024-03-01T12:00:00Z", "--to", "2024-03-01T13:00:00Z"}, "exactly one of --config"},
		{"unknown lb", []string{"export", "--store", store, "--lb", "nosuch", "--from", "2024-03-01T12:00:00Z", "--to", "2024-03-01T13:00:00Z"}, "--lb nosuch: unknown load balancer"},
		{"missing store", []string{"export", "--store", "testdata/none.db", "--lb", "web", "--from", "2024-03-01T12:00:00Z", "--to", "2024-03-01T13:00:00Z"}, "testdata/none.db: no such file"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := run(context.Background(), c.args, &bytes.Buffer{})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want it to contain %q", err, c.want)
			}
		})
	}
}

func TestExportWithConfig(t *testing.T) {
	store := exportStore(t)
	ini := filepath.Join(t.TempDir(), "shadowscale.ini")
	conf := "[metrics]\nstore = embedded\npath = " + store + "\n\n[haproxy]\nsockets = haproxy.sock\nmaster_sockets = master.sock\n\n[provider.standby]\nkind = static\naddresses = 127.0.0.1:18080\n\n[lb.web]\nbackend = web\nprovider = standby\n"
	if err := os.WriteFile(ini, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	err := run(context.Background(), []string{"export", "--config", ini, "--lb", "web",
		"--from", "2024-03-01T12:00:00Z", "--to", "2024-03-01T12:10:00Z"}, &out)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := os.ReadFile(filepath.Join("testdata", "export_web.golden.csv"))
	if out.String() != string(want) {
		t.Fatalf("export via --config:\n%s", out.String())
	}
	out.Reset()
	err = run(context.Background(), []string{"export", "--config", ini, "--lb", "nosuch",
		"--from", "2024-03-01T12:00:00Z", "--to", "2024-03-01T12:10:00Z"}, &out)
	if err == nil || !strings.Contains(err.Error(), "--lb nosuch: unknown load balancer") || !strings.Contains(err.Error(), "names web") || out.Len() != 0 {
		t.Fatalf("unknown lb via --config: %v, output %q", err, out.String())
	}
}
