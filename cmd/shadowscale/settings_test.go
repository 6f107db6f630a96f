package main

import (
	"reflect"
	"testing"

	"github.com/shadowscale/shadowscale/config"
	"github.com/shadowscale/shadowscale/scheduler"
)

// The scheduler's default policy is the configuration's: a file that sets
// no [policy] key gets exactly what the scheduler assumes.
func TestDefaultPolicyMatchesConfig(t *testing.T) {
	got, want := schedulerPolicy(config.Default().Policy), scheduler.DefaultPolicy()
	if !equalPolicy(got, want) {
		t.Fatalf("config default policy %+v != scheduler default %+v", got, want)
	}
}

func equalPolicy(a, b scheduler.Policy) bool { return reflect.DeepEqual(a, b) }
