package haproxy

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/haproxytech/client-native/v5/configuration"
	cfgopts "github.com/haproxytech/client-native/v5/configuration/options"
	"github.com/haproxytech/client-native/v5/models"
)

// openConfiguration opens the node's haproxy.cfg with client-native's
// configuration client, overriding its /etc/haproxy defaults: the file,
// the haproxy binary that validates commits, the transaction and backup
// directories all come from cfg.
func openConfiguration(ctx context.Context, cfg NodeConfig) (configuration.Configuration, error) {
	bin := cfg.HAProxyBin
	if bin == "" {
		p, err := exec.LookPath("haproxy")
		if err != nil {
			return nil, fmt.Errorf("%w: haproxy binary for config validation: %v", ErrUnavailable, err)
		}
		bin = p
	}
	dir := cfg.TransactionDir
	if dir == "" {
		dir = filepath.Join(filepath.Dir(cfg.ConfigFile), "transactions")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("transaction dir: %w", err)
	}
	c, err := configuration.New(ctx,
		cfgopts.ConfigurationFile(cfg.ConfigFile),
		cfgopts.HAProxyBin(bin),
		cfgopts.TransactionsDir(dir),
		cfgopts.BackupsDir(dir),
		cfgopts.UseModelsValidation,
	)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", cfg.ConfigFile, err)
	}
	return c, nil
}

// serverPatch is a change to one server line.
type serverPatch struct {
	weight *int
	maint  *bool
}

func serverModel(s ServerSpec) *models.Server {
	port := int64(s.Port)
	w := int64(s.Weight)
	inter := s.CheckInter.Milliseconds()
	m := &models.Server{Name: s.Name, Address: s.Addr, Port: &port}
	m.Weight = &w
	m.Check = "enabled"
	m.Inter = &inter
	// A reload starts the server in maintenance, as the runtime add did;
	// the state file then restores whatever state it reached.
	m.Maintenance = "enabled"
	if s.SlowStart > 0 {
		ss := s.SlowStart.Milliseconds()
		m.Slowstart = &ss
	}
	return m
}

// persistAdd writes a new server line in one configuration transaction.
func (r *Runtime) persistAdd(backend string, s ServerSpec) error {
	if r.conf == nil {
		return nil
	}
	v, err := r.conf.GetConfigurationVersion("")
	if err != nil {
		return fmt.Errorf("config version: %w", err)
	}
	if err := r.conf.CreateServer("backend", backend, serverModel(s), "", v); err != nil {
		return fmt.Errorf("create server %s/%s in %s: %w", backend, s.Name, r.cfg.ConfigFile, err)
	}
	return nil
}

// persistEdit applies patch to a server line. A server missing from the
// file (added by someone else at run time) is logged, not an error: the
// live change already happened.
func (r *Runtime) persistEdit(backend, server string, patch func(*serverPatch)) error {
	if r.conf == nil {
		return nil
	}
	v, m, err := r.conf.GetServer(server, "backend", backend, "")
	if err != nil {
		if isConfNotFound(err) {
			r.log.Warn("server not in config file; change is runtime-only", "backend", backend, "server", server)
			return nil
		}
		return &Error{Node: r.Name(), Op: "persist " + backend + "/" + server, Err: err}
	}
	var p serverPatch
	patch(&p)
	if p.weight != nil {
		w := int64(*p.weight)
		m.Weight = &w
	}
	if p.maint != nil {
		m.Maintenance = "disabled"
		if *p.maint {
			m.Maintenance = "enabled"
		}
	}
	if err := r.conf.EditServer(server, "backend", backend, m, "", v); err != nil {
		return &Error{Node: r.Name(), Op: "persist " + backend + "/" + server, Err: err}
	}
	return nil
}

// persistDelete removes a server line; a line already gone is fine.
func (r *Runtime) persistDelete(backend, server string) error {
	if r.conf == nil {
		return nil
	}
	v, err := r.conf.GetConfigurationVersion("")
	if err != nil {
		return &Error{Node: r.Name(), Op: "persist removal", Err: err}
	}
	if err := r.conf.DeleteServer(server, "backend", backend, "", v); err != nil && !isConfNotFound(err) {
		return &Error{Node: r.Name(), Op: "persist removal of " + backend + "/" + server, Err: err}
	}
	return nil
}

func isConfNotFound(err error) bool {
	return errors.Is(err, configuration.ErrObjectDoesNotExist)
}
