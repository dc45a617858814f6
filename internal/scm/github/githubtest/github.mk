# GitHub's REST API description for the GitHub stand-in's request checks
# (internal/scm/github/githubtest). Included by the top Makefile; paths are
# relative to this file so the include works from anywhere.
GITHUB_OPENAPI_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
GO ?= go

# Where description.sh keeps the pinned description (no fetch here).
GITHUB_OPENAPI = $(shell bash $(GITHUB_OPENAPI_DIR)/description.sh --print-path)

# Environment the GitHub provider's tests need: prefix `go test` with it, e.g.
#   $(GITHUB_OPENAPI_ENV) go test ./internal/scm/github/...
GITHUB_OPENAPI_ENV = MLPORTAL_GITHUB_OPENAPI='$(GITHUB_OPENAPI)'

.PHONY: github-openapi test-github

# The integration tier needs the description: fetch it first (a no-op once cached).
test-integration: github-openapi

github-openapi: ## Fetch GitHub's REST API description (npm @octokit/openapi, cached) for the GitHub stand-in
	bash $(GITHUB_OPENAPI_DIR)/description.sh

test-github: github-openapi ## Test the GitHub SCM provider against the stand-in that checks requests against GitHub's description
	$(GITHUB_OPENAPI_ENV) $(GO) test -count=1 ./internal/scm/github/...
