// Package gitserver is the `local` SCM provider's adapter: it keeps bare git
// repositories on disk, under `<root>/<team>/<project>.git`, and serves them
// over git's smart HTTP protocol at `/git/<team>/<project>.git`.
//
// It runs the real git binary: `git http-backend` through net/http/cgi for
// clones, fetches and pushes, and plumbing commands (hash-object,
// update-index, write-tree, commit-tree, update-ref) to write a project's
// first commit without a working tree. Every git process gets a minimal
// environment that ignores the host's user and system git config. Plumbing
// runs under the caller's context; http-backend runs under net/http/cgi, which
// takes no context but kills the process when the client goes away.
//
// Callers authenticate like the API does — the token as the password of HTTP
// Basic auth (any username), or `Authorization: Bearer` — and are authorized
// per team with package identity: cloning and fetching need the read verb,
// pushing needs write.
//
// It does not decide who belongs to a team, issue tokens, talk to hosted SCM
// providers, serve git's dumb HTTP or SSH protocols, install server-side hooks,
// or protect branches. The per-repository lock that makes Create idempotent
// under concurrency is in-process; a compare-and-swap on the branch keeps two
// processes sharing one root from writing two first commits, but the package
// is meant for a single server.
package gitserver
