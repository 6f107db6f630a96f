package testenv

import "testing"

// Etcd returns the etcd server binary (Debian's etcd-server) or fails/skips.
func Etcd(t testing.TB) string {
	t.Helper()
	return binaryHint(t, "etcd", "run `make setup` (apt-get install etcd-server)")
}
