// Package notfound holds the one "not found" sentinel that both the
// HAProxy drivers and the scheduler wrap, so "already gone" means the same
// on both sides of scheduler/adapt without either importing the other.
package notfound

import "errors"

// Err is wrapped for an unknown backend, server, map key or instance.
var Err = errors.New("not found")
