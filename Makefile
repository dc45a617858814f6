# mlportal — make help lists the targets.
# The two commands a newcomer needs: `make run` and `make test`.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

GO          ?= go
VERSION     ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT      ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
LDFLAGS     := -X github.com/mlportal/mlportal/internal/version.Version=$(VERSION) -X github.com/mlportal/mlportal/internal/version.Commit=$(COMMIT)
DATA_DIR    ?= .mlportal
ADDR        ?= 127.0.0.1:8080

include internal/testenv/testenv.mk
include internal/testenv/s3.mk
include plugins/plugins.mk
include scaffolder-templates/ml-project/skeleton.mk
include internal/scm/github/githubtest/github.mk
include internal/mlflowapi/mlflow.mk
include internal/models/models.mk
include internal/loadgen/loadgen.mk

.PHONY: help run build generate check-generated test test-unit test-integration lint fmt bench loadtest fuzz docs clean

help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | grep -v '(file)' | sort | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-24s\033[0m %s\n", $$1, $$2}'

run: build ## Start mlportal in local mode (SQLite under ./.mlportal) and print the URL, an admin token and next steps
	./bin/mlportal serve --data-dir $(DATA_DIR) --addr $(ADDR)

build: ## Build bin/mlportal
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/mlportal ./server

generate: ## Regenerate the Go server/client and TypeScript client from internal/api/openapi.yaml
	$(GO) generate ./internal/api
	$(MAKE) plugins-generate

check-generated: ## Fail when generated code is stale (Go and TypeScript)
	$(GO) test ./internal/api -run TestGeneratedCodeIsCurrent
	$(MAKE) plugins-check-generated

fmt: ## Format the Go code
	gofmt -w $$(git ls-files '*.go')

lint: ## go vet and gofmt check
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

test: lint test-unit test-integration plugins-check-generated test-plugins docs ## Install what the tests need and run every tier: unit, integration (real Kubernetes, PostgreSQL), plugins, docs
	@echo "all test tiers passed"

test-unit: ## Unit tier: fast tests, no external processes (go test -short)
	$(GO) test -short -count=1 ./...

test-integration: testenv postgres versitygw skeleton-pyenv mlflow2-pyenv mlflow-server-pyenv techdocs-pyenv build ## Integration tier: real kube-apiserver/etcd/controller-manager/scheduler/kwok, real PostgreSQL, real git, a real S3 server, GitHub's API description, the skeleton with real mlflow
	$(TESTENV_ENV) $(S3_ENV) $(SKELETON_ENV) $(MLFLOW2_ENV) $(MLFLOW_SERVER_ENV) $(GITHUB_OPENAPI_ENV) $(TECHDOCS_ENV) $(GO) test -count=1 -timeout 30m ./...

bench: postgres ## Benchmarks: request path, store (tracking, registry, costs), scheduler, executors, artifact stores (see docs/benchmarks.md)
	$(GO) test -run '^$$' -bench . -benchmem ./internal/httpapi/...
	$(TESTENV_ENV) $(GO) test -run '^$$' -bench 'LogBatch1000Metrics|SearchRuns100k|Registry5000Versions|SumJobCosts' -benchtime 20x -benchmem ./internal/store/
	$(GO) test -run '^$$' -bench . -benchtime 200x ./internal/scheduler/
	$(GO) test -run '^$$' -bench . -benchtime 8x -benchmem ./internal/artifact/fsstore/
	$(GO) test -run '^$$' -bench . -count 3 ./internal/executor/local/

loadtest: build postgres ## Load run of authenticated GET/POST /api/v1/teams on SQLite and PostgreSQL (see docs/benchmarks.md)
	$(TESTENV_ENV) $(GO) run ./internal/loadgen -bin ./bin/mlportal

fuzz: ## Run each fuzz target for a short while
	$(GO) test -run '^$$' -fuzz FuzzLoad -fuzztime 30s ./internal/config
	$(GO) test -run '^$$' -fuzz FuzzAuthenticate -fuzztime 30s ./internal/token
	$(GO) test -run '^$$' -fuzz FuzzRequest -fuzztime 30s ./internal/httpapi
	$(GO) test -run '^$$' -fuzz FuzzDecode -fuzztime 30s ./internal/lifecycle
	$(GO) test -run '^$$' -fuzz FuzzRender -fuzztime 30s ./internal/render
	$(GO) test -run '^$$' -fuzz FuzzQuantity -fuzztime 30s ./internal/lifecycle
	$(GO) test -run '^$$' -fuzz FuzzValidateCron -fuzztime 30s ./internal/lifecycle
	$(GO) test -run '^$$' -fuzz FuzzCleanPath -fuzztime 30s ./internal/artifact
	$(GO) test -run '^$$' -fuzz FuzzParseFilter -fuzztime 30s ./internal/tracking
	$(GO) test -run '^$$' -fuzz FuzzNames -fuzztime 30s ./internal/executor/kube
	$(GO) test -run '^$$' -fuzz FuzzParseNvidiaSMI -fuzztime 30s ./internal/executor/local

docs: ## Build the TechDocs site (mkdocs + mkdocs-techdocs-core from PyPI) with --strict
	bash docs/build.sh

clean: ## Remove build output (not the local data dir)
	rm -rf bin
