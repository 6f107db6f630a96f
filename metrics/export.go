package metrics

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"
)

// WriteTraceCSV writes a series as a trace CSV (DESIGN.md 3.1): header
// "timestamp,value", one row per window with data (RFC3339 UTC, window
// start); windows without data are left out as gaps. It returns the rows
// written.
func WriteTraceCSV(w io.Writer, r Regular) (int, error) {
	bw := bufio.NewWriter(w)
	bw.WriteString("timestamp,value\n")
	rows := 0
	for i, v := range r.Values {
		if math.IsNaN(v) {
			continue
		}
		bw.WriteString(r.Time(i).UTC().Format(time.RFC3339))
		bw.WriteByte(',')
		bw.WriteString(strconv.FormatFloat(v, 'g', -1, 64))
		bw.WriteByte('\n')
		rows++
	}
	if err := bw.Flush(); err != nil {
		return rows, fmt.Errorf("write trace csv: %w", err)
	}
	return rows, nil
}
