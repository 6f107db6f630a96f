package events

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // TZID parameters must resolve on machines without zoneinfo
)

// ReadICS reads the VEVENTs of an iCalendar file (RFC 5545), the format
// calendar applications export. Per event:
//
//	DTSTART, DTEND   required; UTC (…Z), local with TZID=Area/City, floating
//	                 (read as UTC) or VALUE=DATE (midnight UTC)
//	SUMMARY          the event's name
//	X-SHADOWSCALE-LB, X-SHADOWSCALE-KIND, X-SHADOWSCALE-LIFT
//	                 its load balancer (* or all for every one), kind, lift
//
// Calendar apps that drop unknown properties keep the description, so the
// same keys are also read from DESCRIPTION lines "lb: web", "kind: campaign",
// "lift: 1.8" (X- properties win). lb and lift are required; kind defaults
// to "event". RRULE (recurring events) and DURATION are refused rather than
// misread. name is used in errors, which give file:line.
func ReadICS(r io.Reader, name string) ([]Event, error) {
	lines, err := unfold(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	var out []Event
	var cur *icsEvent
	for _, l := range lines {
		p, err := parseProp(l.text)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, l.no, err)
		}
		switch {
		case p.name == "BEGIN" && strings.EqualFold(p.value, "VEVENT"):
			if cur != nil {
				return nil, fmt.Errorf("%s:%d: BEGIN:VEVENT inside the VEVENT of line %d", name, l.no, cur.line)
			}
			cur = &icsEvent{line: l.no, props: map[string]icsProp{}}
		case p.name == "END" && strings.EqualFold(p.value, "VEVENT"):
			if cur == nil {
				return nil, fmt.Errorf("%s:%d: END:VEVENT without BEGIN", name, l.no)
			}
			e, err := cur.event()
			if err != nil {
				return nil, fmt.Errorf("%s:%d: %w", name, cur.errLine, err)
			}
			out = append(out, e)
			cur = nil
		case cur != nil:
			p.line = l.no
			cur.props[p.name] = p
		}
	}
	if cur != nil {
		return nil, fmt.Errorf("%s:%d: VEVENT not closed by END:VEVENT", name, cur.line)
	}
	return out, nil
}

type line struct {
	no   int
	text string
}

// unfold joins continuation lines (starting with a space or tab) to the
// line before, keeping the number of the first.
func unfold(r io.Reader) ([]line, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	var out []line
	for no := 1; sc.Scan(); no++ {
		t := strings.TrimSuffix(sc.Text(), "\r")
		if no == 1 {
			t = strings.TrimPrefix(t, "\ufeff")
		}
		if (strings.HasPrefix(t, " ") || strings.HasPrefix(t, "\t")) && len(out) > 0 {
			out[len(out)-1].text += t[1:]
			continue
		}
		if strings.TrimSpace(t) != "" {
			out = append(out, line{no, t})
		}
	}
	return out, sc.Err()
}

type icsProp struct {
	name   string
	params map[string]string
	value  string
	line   int
}

// parseProp splits "NAME;P1=V1;P2=\"V2\":VALUE".
func parseProp(s string) (icsProp, error) {
	p := icsProp{params: map[string]string{}}
	colon := -1
	inQuote := false
	for i, c := range s {
		if c == '"' {
			inQuote = !inQuote
		}
		if c == ':' && !inQuote {
			colon = i
			break
		}
	}
	if colon < 0 {
		return p, fmt.Errorf("line %q is not NAME:VALUE", clip(s))
	}
	parts := strings.Split(s[:colon], ";")
	p.name, p.value = strings.ToUpper(parts[0]), s[colon+1:]
	for _, kv := range parts[1:] {
		k, v, _ := strings.Cut(kv, "=")
		p.params[strings.ToUpper(k)] = strings.Trim(v, `"`)
	}
	return p, nil
}

type icsEvent struct {
	line    int
	errLine int
	props   map[string]icsProp
}

func (ev *icsEvent) event() (Event, error) {
	ev.errLine = ev.line
	for _, refused := range []string{"RRULE", "RDATE", "DURATION"} {
		if p, ok := ev.props[refused]; ok {
			ev.errLine = p.line
			return Event{}, fmt.Errorf("%s is not supported: give each occurrence its own DTSTART and DTEND", refused)
		}
	}
	desc := descriptionKeys(unescape(ev.props["DESCRIPTION"].value))
	get := func(key string) (string, int) {
		if p, ok := ev.props["X-SHADOWSCALE-"+strings.ToUpper(key)]; ok {
			return strings.TrimSpace(unescape(p.value)), p.line
		}
		return desc[key], ev.props["DESCRIPTION"].line
	}
	e := Event{Name: unescape(ev.props["SUMMARY"].value)}
	lb, _ := get("lb")
	e.LB = normLB(lb)
	if e.Kind, _ = get("kind"); e.Kind == "" {
		e.Kind = DefaultKind
	}
	var err error
	if e.Start, err = ev.time("DTSTART"); err != nil {
		return e, err
	}
	if e.End, err = ev.time("DTEND"); err != nil {
		return e, err
	}
	lift, at := get("lift")
	if lift == "" {
		return e, fmt.Errorf("event %q has no lift (X-SHADOWSCALE-LIFT or \"lift:\" in DESCRIPTION)", e.Name)
	}
	if e.Lift, err = strconv.ParseFloat(lift, 64); err != nil {
		ev.errLine = at
		return e, fmt.Errorf("lift %q is not a number", lift)
	}
	if e.LB == "" {
		return e, fmt.Errorf("event %q has no load balancer (X-SHADOWSCALE-LB or \"lb:\" in DESCRIPTION; * for all)", e.Name)
	}
	if err := e.Validate(); err != nil {
		ev.errLine = ev.props["DTEND"].line
		return e, fmt.Errorf("event %q: %w", e.Name, err)
	}
	return e, nil
}

func (ev *icsEvent) time(prop string) (time.Time, error) {
	p, ok := ev.props[prop]
	if !ok {
		return time.Time{}, fmt.Errorf("VEVENT lacks %s", prop)
	}
	ev.errLine = p.line
	loc := time.UTC
	if tz := p.params["TZID"]; tz != "" {
		l, err := time.LoadLocation(tz)
		if err != nil {
			return time.Time{}, fmt.Errorf("%s: unknown TZID %q", prop, tz)
		}
		loc = l
	}
	v := strings.TrimSpace(p.value)
	layouts := []string{"20060102T150405", "20060102"}
	if strings.HasSuffix(v, "Z") {
		layouts, loc = []string{"20060102T150405Z"}, time.UTC
	}
	for _, layout := range layouts {
		if t, err := time.ParseInLocation(layout, v, loc); err == nil {
			ev.errLine = ev.line
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%s %q is not an iCalendar date-time (e.g. 20240301T120000Z)", prop, v)
}

// descriptionKeys reads "key: value" lines of a description.
func descriptionKeys(desc string) map[string]string {
	out := map[string]string{}
	for _, l := range strings.Split(desc, "\n") {
		k, v, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		k = strings.ToLower(strings.TrimSpace(k))
		if k == "lb" || k == "kind" || k == "lift" {
			out[k] = strings.TrimSpace(v)
		}
	}
	return out
}

var icsUnescaper = strings.NewReplacer(`\n`, "\n", `\N`, "\n", `\,`, ",", `\;`, ";", `\\`, `\`)

func unescape(s string) string { return icsUnescaper.Replace(s) }

func clip(s string) string {
	if len(s) > 60 {
		return s[:60] + "..."
	}
	return s
}
