package embedded

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"
)

// Keys and values are a small binary layout inside bbolt's B+tree:
//   series bucket name: measurement 0 k1 0 v1 0 k2 0 v2 ... (tags sorted)
//   entry key:          8-byte big-endian time, offset so negative times sort
//   entry value:        uvarint #fields, (name, float64 bits)...,
//                       uvarint #texts, (name, value)...   (strings uvarint-prefixed)

const sep = 0

func seriesName(measurement string, tags map[string]string) []byte {
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	b := []byte(measurement)
	b = append(b, sep)
	for _, k := range keys {
		b = append(b, k...)
		b = append(b, sep)
		b = append(b, tags[k]...)
		b = append(b, sep)
	}
	return b
}

// measurementPrefix is what every series name of a measurement starts with.
func measurementPrefix(m string) []byte { return append([]byte(m), sep) }

func parseSeriesName(b []byte) (string, map[string]string, error) {
	parts := bytes.Split(b, []byte{sep})
	// A name ends with the separator, so the last part is empty and the
	// rest are the measurement then tag key/value pairs.
	if len(parts) < 2 || len(parts)%2 != 0 {
		return "", nil, fmt.Errorf("corrupt series name %q", b)
	}
	tags := map[string]string{}
	for i := 1; i+1 < len(parts); i += 2 {
		tags[string(parts[i])] = string(parts[i+1])
	}
	return string(parts[0]), tags, nil
}

func timeKey(t time.Time) []byte {
	var k [8]byte
	binary.BigEndian.PutUint64(k[:], uint64(t.UnixNano())^(1<<63))
	return k[:]
}

func keyTime(k []byte) time.Time {
	return time.Unix(0, int64(binary.BigEndian.Uint64(k)^(1<<63))).UTC()
}

func encodeValue(fields map[string]float64, text map[string]string) []byte {
	b := binary.AppendUvarint(nil, uint64(len(fields)))
	for _, k := range sortedKeys(fields) {
		b = appendString(b, k)
		b = binary.BigEndian.AppendUint64(b, math.Float64bits(fields[k]))
	}
	b = binary.AppendUvarint(b, uint64(len(text)))
	for _, k := range sortedKeys(text) {
		b = appendString(b, k)
		b = appendString(b, text[k])
	}
	return b
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

var errCorrupt = errors.New("corrupt entry value")

type reader struct {
	b   []byte
	err error
}

func (r *reader) uvarint() int {
	v, n := binary.Uvarint(r.b)
	// A count or length can never exceed the bytes that follow it.
	if n <= 0 || v > uint64(len(r.b)-n) {
		r.err = errCorrupt
		r.b = nil
		return 0
	}
	r.b = r.b[n:]
	return int(v)
}

func (r *reader) bytes() []byte {
	n := r.uvarint()
	if r.err != nil || n > len(r.b) {
		r.err = errCorrupt
		return nil
	}
	s := r.b[:n]
	r.b = r.b[n:]
	return s
}

func (r *reader) float() float64 {
	if len(r.b) < 8 {
		r.err = errCorrupt
		return 0
	}
	v := math.Float64frombits(binary.BigEndian.Uint64(r.b))
	r.b = r.b[8:]
	return v
}

func decodeValue(b []byte) (map[string]float64, map[string]string, error) {
	r := &reader{b: b}
	n := r.uvarint()
	fields := make(map[string]float64, n)
	for i := 0; i < n && r.err == nil; i++ {
		k := string(r.bytes())
		fields[k] = r.float()
	}
	m := r.uvarint()
	var text map[string]string
	if m > 0 {
		text = make(map[string]string, m)
	}
	for i := 0; i < m && r.err == nil; i++ {
		k := string(r.bytes())
		text[k] = string(r.bytes())
	}
	return fields, text, r.err
}

// lookupField finds one numeric field without decoding the whole value:
// the hot path of History.
func lookupField(b []byte, name string) (float64, bool) {
	r := &reader{b: b}
	n := r.uvarint()
	for i := 0; i < n && r.err == nil; i++ {
		k := r.bytes()
		v := r.float()
		if r.err == nil && string(k) == name {
			return v, true
		}
	}
	return 0, false
}

func checkName(what, s string) error {
	if strings.IndexByte(s, sep) >= 0 {
		return fmt.Errorf("%s %q contains a NUL byte", what, s)
	}
	return nil
}
