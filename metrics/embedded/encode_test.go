package embedded

import (
	"reflect"
	"testing"
)

func TestEncodeRoundTrip(t *testing.T) {
	f := map[string]float64{"a": 1.5, "b": -0}
	x := map[string]string{"name": "spring, sale", "": ""}
	gf, gx, err := decodeValue(encodeValue(f, x))
	if err != nil || !reflect.DeepEqual(gf, f) || !reflect.DeepEqual(gx, x) {
		t.Fatalf("got %v %v %v", gf, gx, err)
	}
	if v, ok := lookupField(encodeValue(f, x), "b"); !ok || v != 0 {
		t.Fatal("lookup")
	}
	m, tags, err := parseSeriesName(seriesName("haproxy", map[string]string{"lb": "web", "server": "BACKEND"}))
	if err != nil || m != "haproxy" || !reflect.DeepEqual(tags, map[string]string{"lb": "web", "server": "BACKEND"}) {
		t.Fatalf("series name: %v %v %v", m, tags, err)
	}
}

// Corrupt values must give an error, never a panic.
func FuzzDecodeValue(f *testing.F) {
	f.Add(encodeValue(map[string]float64{"req_rate": 3}, map[string]string{"name": "x"}))
	f.Add([]byte{0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		decodeValue(b)
		lookupField(b, "req_rate")
		parseSeriesName(b)
	})
}
