// Package version reports the build of the running binary: the version and
// commit stamped at link time by `make build`, and the Go toolchain.
package version

import "runtime"

// Set by -ldflags "-X github.com/mlportal/mlportal/internal/version.Version=…".
var (
	Version = "dev"
	Commit  = "unknown"
)

// GoVersion is the toolchain the binary was built with.
func GoVersion() string { return runtime.Version() }
