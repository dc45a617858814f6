# Integration-tier test environment (internal/testenv). Included by the top
# Makefile; paths are relative to this file so the include works from anywhere.
TESTENV_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))

# Where build.sh puts the binaries for the pinned versions (no build here).
TESTENV_BIN = $(shell bash $(TESTENV_DIR)/build.sh --print-bin-dir)
# DSN of the test superuser postgres.sh creates; override to use another server.
TESTENV_POSTGRES_DSN ?= $(or $(MLPORTAL_TEST_POSTGRES_DSN),$(shell bash $(TESTENV_DIR)/postgres.sh --print-dsn))

# Environment the integration tier needs: prefix `go test` with it, e.g.
#   $(TESTENV_ENV) go test ./...
TESTENV_ENV = MLPORTAL_TESTENV_BIN='$(TESTENV_BIN)' MLPORTAL_TEST_POSTGRES_DSN='$(TESTENV_POSTGRES_DSN)'

.PHONY: testenv postgres testenv-smoke

testenv: ## Build and cache etcd, kube-apiserver/-controller-manager/-scheduler and kwok (slow once, then a no-op)
	bash $(TESTENV_DIR)/build.sh

postgres: ## Install (if missing) and start PostgreSQL on loopback for the integration tier; prints the DSN
	bash $(TESTENV_DIR)/postgres.sh

testenv-smoke: testenv postgres ## Run the test environment's own smoke tests (real control plane + PostgreSQL)
	$(TESTENV_ENV) go test -count=1 github.com/mlportal/mlportal/internal/testenv/...
