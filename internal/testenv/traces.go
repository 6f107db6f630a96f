package testenv

import (
	"os"
	"path/filepath"
	"testing"
)

// Traces is the shared traces folder (SHADOWSCALE_TRACES, else
// ../shared/data/traces beside the repository), or fails/skips.
func Traces(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("SHADOWSCALE_TRACES")
	if dir == "" {
		dir = filepath.Join(RepoRoot(), "..", "shared", "data", "traces")
	}
	if _, err := os.Stat(dir); err != nil {
		Missing(t, "the shared traces ("+dir+")", "put shared/ beside the repository or set SHADOWSCALE_TRACES")
	}
	return dir
}
