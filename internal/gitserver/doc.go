// Package gitserver is the `local` SCM provider's adapter: it keeps bare git
// repositories on disk, under `<root>/<team>/<project>.git`, and serves them
// over git's smart HTTP protocol at `/git/<team>/<project>.git`, and their
// files one at a time at `/git/<team>/<project>.git/raw/<ref>/<path>` (for
// Backstage's catalog, which reads a project's catalog-info.yaml that way).
//
// It runs the real git binary: `git http-backend` through net/http/cgi for
// clones, fetches and pushes, and plumbing commands (hash-object,
// update-index, write-tree, commit-tree, update-ref) to write a project's
// first commit without a working tree, and cat-file to read single files.
// Every git process gets a minimal environment that ignores the host's user
// and system git config. Plumbing runs under the caller's context;
// http-backend runs under net/http/cgi, which takes no context but kills the
// process when the client goes away.
//
// Callers authenticate like the API does — the token as the password of HTTP
// Basic auth (any username), or `Authorization: Bearer` — and are authorized
// per team with package identity: cloning, fetching and reading files need
// the read verb, pushing needs write. Backstage services (the catalog) may
// read every team's repositories: Backstage's backend can already sign any
// user's token, so this grants it nothing new.
//
// It does not decide who belongs to a team, issue tokens, talk to hosted SCM
// providers, serve git's dumb HTTP or SSH protocols, list directories, install server-side hooks,
// or protect branches. The per-repository lock that makes Create idempotent
// under concurrency is in-process; a compare-and-swap on the branch keeps two
// processes sharing one root from writing two first commits, but the package
// is meant for a single server.
package gitserver
