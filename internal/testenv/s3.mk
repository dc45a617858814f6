# S3-compatible storage for the integration tier (internal/testenv/s3.go):
# versitygw, built from the Go module pinned in tools-s3/versitygw/go.mod.
# Included by the top Makefile; kept apart from testenv.mk and tools/ so that
# bumping versitygw never rebuilds Kubernetes.
S3_TESTENV_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))

# Environment the S3 tests need: prefix `go test` with it, e.g.
#   $(S3_ENV) go test ./internal/artifact/...
S3_ENV = MLPORTAL_VERSITYGW='$(shell bash $(S3_TESTENV_DIR)/versitygw.sh --print-bin)'

.PHONY: versitygw

versitygw: ## Build and cache versitygw, the S3-compatible server the S3 artifact store is tested against (once, then a no-op)
	bash $(S3_TESTENV_DIR)/versitygw.sh
