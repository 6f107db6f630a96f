package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/shadowscale/shadowscale/api"
)

// runEvents lists (default), adds or deletes external events of a running
// serve: events [list [--lb LB]] | add --lb LB --kind K --start T --end T
// --lift X [--name N] | delete ID.
func runEvents(ctx context.Context, args []string, stdout io.Writer) error {
	verb := "list"
	if len(args) > 0 && (args[0] == "list" || args[0] == "add" || args[0] == "delete") {
		verb, args = args[0], args[1:]
	}
	fs := newFlags("events " + verb)
	cf := addClientFlags(fs)
	lb := fs.String("lb", "", "load balancer (add: required, * for all; list: only those affecting it)")
	kind := fs.String("kind", "", "add: kind of event (campaign, release, ...)")
	name := fs.String("name", "", "add: a name")
	start := fs.String("start", "", "add: start, RFC3339")
	end := fs.String("end", "", "add: end, RFC3339")
	lift := fs.Float64("lift", 0, "add: expected demand multiplier while it runs")
	id, rest := "", args
	if verb == "delete" {
		id, rest = splitArg(args)
	}
	if err := parseFlags(fs, rest); err != nil {
		return err
	}
	c, err := cf.client()
	if err != nil {
		return err
	}
	var out json.RawMessage
	switch verb {
	case "add":
		body := map[string]any{"lb": *lb, "kind": *kind, "name": *name, "start": *start, "end": *end, "lift": *lift}
		err = c.do(ctx, http.MethodPost, "/v1/events", body, &out)
	case "delete":
		if id == "" {
			return fmt.Errorf("usage: shadowscale events delete ID")
		}
		err = c.do(ctx, http.MethodDelete, "/v1/events/"+url.PathEscape(id), nil, nil)
		out = json.RawMessage(fmt.Sprintf(`{"deleted":%q}`, id))
	default:
		q := ""
		if *lb != "" {
			q = "?lb=" + url.QueryEscape(*lb)
		}
		err = c.do(ctx, http.MethodGet, "/v1/events"+q, nil, &out)
	}
	if err != nil {
		return err
	}
	if *cf.asJSON {
		return writeJSON(stdout, out)
	}
	return printEvents(stdout, verb, out)
}

func printEvents(w io.Writer, verb string, raw json.RawMessage) error {
	var evs []api.EventView
	switch verb {
	case "delete":
		fmt.Fprintln(w, "deleted")
		return nil
	case "add":
		var e api.EventView
		if err := json.Unmarshal(raw, &e); err != nil {
			return err
		}
		evs = []api.EventView{e}
	default:
		var v api.EventsView
		if err := json.Unmarshal(raw, &v); err != nil {
			return err
		}
		evs = v.Events
	}
	for _, e := range evs {
		fmt.Fprintf(w, "%-8s %-6s %-10s %-10s %s → %s  ×%g  %s\n", e.ID, e.Source, e.LB, e.Kind,
			e.Start.Format(time.RFC3339), e.End.Format(time.RFC3339), e.Lift, e.Name)
	}
	return nil
}
