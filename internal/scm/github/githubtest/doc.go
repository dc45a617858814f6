// Package githubtest is a stand-in for GitHub's REST API, for testing the
// GitHub SCM provider (package github). It is a stand-in because the real
// GitHub API cannot be used from tests here: no network account, no
// organisation to create repositories in, and rate limits. What it cannot
// prove by running the real thing it proves against GitHub's published REST
// API description (api.github.com.json from @octokit/openapi, fetched by
// description.sh): every request is matched to an operation of the
// description and checked with kin-openapi against its parameters and request
// body schema — an unknown method and path, a missing `required` property or a
// wrong type is refused with 400 and a message naming the operation and the
// field — and every successful answer of the stand-in's own is built on the
// description's example for that response and checked against its schema,
// failing the test when it drifts.
//
// Behind that check is an httptest server with in-memory state: organisations,
// repositories (with topics, branch protection, environments, Actions
// variables, Actions secrets sealed with a per-repository NaCl box key pair
// whose private half tests can use), tokens and their users, and a git object
// store that names blobs, trees and commits by their real git SHA-1. It
// behaves like GitHub where the provider depends on it: a name taken in the
// organisation is 422, the Git database API answers 409 "Git Repository is
// empty." until a repository has a commit, refs move only by fast-forward
// unless forced, and creating an Actions variable that exists is 409. It
// records every request, and injects failures: a revoked token (401), the
// primary rate limit (403 with X-RateLimit-Remaining: 0), any status on any
// operation (5xx, 403, 429 with Retry-After), a dropped connection, and
// repositories made by someone else.
//
// It does not implement GitHub's permissions model (inject a 403 instead),
// pagination, conditional requests, webhooks, the git protocol, or any
// operation the provider does not call: those answer 501 naming the operation.
// Under -short the tests that use it skip; without -short they need
// $MLPORTAL_GITHUB_OPENAPI (make github-openapi).
package githubtest
