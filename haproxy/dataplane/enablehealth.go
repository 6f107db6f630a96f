package dataplane

import "context"

// EnableHealth makes sure the server exists. The Data Plane API v2 has no
// "enable health" endpoint: the checks of a server added through it start
// with the reload that applies its commit, so there is nothing to start.
// (A minimal version kept so the package implements haproxy.Node.)
func (d *DataPlane) EnableHealth(ctx context.Context, backend, server string) error {
	if err := names(backend, server); err != nil {
		return d.invalid("enable health", "%v", err)
	}
	_, err := d.Server(ctx, backend, server)
	return err
}
