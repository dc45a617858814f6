// Package github is the `github` SCM provider's adapter: it makes an ML
// project's repository in the team's GitHub (or GitHub Enterprise Server)
// organisation through the REST API, with go-github.
//
// Ensure makes, or finds and finishes, one repository: private, marked with
// the `mlportal` topic, its first commit holding the rendered skeleton (written
// with the Git database API: blobs, a tree, a root commit, refs/heads/main),
// main protected (one approving review, no force pushes, no deletion), the
// deployment environments, the Actions variables, and the Actions secrets
// sealed with the repository's public key (a NaCl sealed box, as GitHub
// documents). Every step checks before it writes, so Ensure is idempotent and
// can be rerun after a crash at any point: a rerun finishes what the last run
// left, and the first commit is dated by the repository's creation so that
// redoing it names the same git objects.
//
// GitHub's Git database API refuses to write to a repository without commits
// (409 "Git Repository is empty."), so an empty repository first gets a
// one-file placeholder commit through the contents API; the skeleton's root
// commit then replaces it on main with a forced ref update, leaving the
// skeleton as main's first and only commit.
//
// A repository it did not make — no `mlportal` topic, or commits it did not
// write — is never touched: Ensure fails with fault.ErrAlreadyExists, and
// Delete leaves it alone. Every failure is an internal/fault error whose
// message names what the data scientist or platform engineer should do (an
// expired token, a missing permission, a missing organisation, the rate limit
// and when it resets, GitHub unreachable) and which parts were already made;
// the wrapped cause keeps GitHub's status, message and request id for the log.
//
// The token (mlportal.scm.github.token) is a fine-grained personal access
// token or a GitHub App installation token with these repository permissions
// on the organisations: Administration read and write (create, topics,
// default branch, branch protection, environments, delete), Contents read and
// write (the first commit), Variables and Secrets read and write, Metadata
// read; or a classic token with the repo scope (and delete_repo for Delete).
// The organisation must let the token's user create private repositories, and
// branch protection and environments in private repositories need a GitHub
// Team or Enterprise plan.
//
// It does not create organisations or teams, grant teams access to the
// repository, manage webhooks, deploy keys or rulesets, open pull requests, or
// wait out rate limits: the saga retries. Tests run against the stand-in in
// package githubtest, which checks every request against GitHub's published
// REST API description.
package github
