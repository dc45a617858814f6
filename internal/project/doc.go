// Package project bootstraps ML projects: it validates and authorizes a
// creation request, persists the project with its saga of steps
// (repository, namespace, binding, catalog) and runs those steps in order,
// recording status, timing and a plain-language error after every transition
// so that a crash, a restart or a retry carries on where the saga stopped.
//
// It talks to git, the cluster and the database only through the small
// interfaces it declares (Repos, Namespaces, Repository); it does not know
// GitHub, client-go or SQL, and it does not roll steps back: every step is
// idempotent, so a failed saga is retried, never undone.
package project
