package config

import "time"

// HA is the [ha] section: serve replicas coordinated through etcd. No
// endpoints means a single replica (the default).
type HA struct {
	EtcdEndpoints  []string
	ReplicaID      string // default: hostname-pid
	ElectionPrefix string
	LeaseTTL       time.Duration
	// ActingMargin: the leader stops acting this long before its lease
	// can expire on the others.
	ActingMargin time.Duration
	DialTimeout  time.Duration
	TLSCA        string
	TLSCert      string
	TLSKey       string
	Username     string
	Password     string
}

// Enabled reports whether replicas coordinate through etcd.
func (h HA) Enabled() bool { return len(h.EtcdEndpoints) > 0 }

func defaultHA() HA {
	return HA{ElectionPrefix: "/shadowscale/", LeaseTTL: 15 * time.Second, ActingMargin: 5 * time.Second, DialTimeout: 5 * time.Second}
}

func haFields(h *HA) []field {
	return []field{
		{"etcd_endpoints", list(&h.EtcdEndpoints)},
		{"replica_id", str(&h.ReplicaID)},
		{"election_prefix", str(&h.ElectionPrefix)},
		{"lease_ttl", duration(&h.LeaseTTL)},
		{"acting_margin", duration(&h.ActingMargin)},
		{"dial_timeout", duration(&h.DialTimeout)},
		{"tls_ca", str(&h.TLSCA)},
		{"tls_cert", str(&h.TLSCert)},
		{"tls_key", str(&h.TLSKey)},
		{"username", str(&h.Username)},
		{"password", str(&h.Password)},
	}
}

// validateHA checks [ha] and what replication demands of the rest: a
// metrics store every replica shares, and providers whose instances any
// replica can reach and destroy.
func (c Config) validateHA() error {
	const sec = "ha"
	h := c.HA
	if !h.Enabled() {
		return nil
	}
	switch {
	case len(h.ElectionPrefix) < 2 || h.ElectionPrefix[0] != '/' || h.ElectionPrefix[len(h.ElectionPrefix)-1] != '/':
		return bad(sec, "election_prefix", "must start and end with '/', got %q", h.ElectionPrefix)
	case h.LeaseTTL < 2*time.Second || h.LeaseTTL%time.Second != 0:
		return bad(sec, "lease_ttl", "must be whole seconds, at least 2s, got %s", h.LeaseTTL)
	case h.ActingMargin <= 0 || h.ActingMargin >= h.LeaseTTL*2/3-time.Second:
		return bad(sec, "acting_margin", "must be positive and below 2/3 of lease_ttl minus 1s (%s), got %s", h.LeaseTTL*2/3-time.Second, h.ActingMargin)
	case h.DialTimeout <= 0:
		return bad(sec, "dial_timeout", "must be positive, got %s", h.DialTimeout)
	case (h.TLSCert == "") != (h.TLSKey == ""):
		return bad(sec, "tls_cert", "tls_cert and tls_key go together")
	case c.Metrics.Store != "influxdb":
		return bad(sec, "etcd_endpoints", "replicas must share the metrics store: set [metrics] store = influxdb (the %s store is per machine)", c.Metrics.Store)
	}
	for _, ep := range h.EtcdEndpoints {
		if p := httpURLProblem(ep); p != "" {
			return bad(sec, "etcd_endpoints", "endpoint %q: %s", ep, p)
		}
	}
	for _, name := range c.ProviderNames() {
		if c.Providers[name].Kind == "local" {
			return bad("provider."+name, "kind", "local instances live on one machine and cannot be taken over by another replica; use static or exec with [ha]")
		}
	}
	return nil
}
