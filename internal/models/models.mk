# The TechDocs generator internal/models' model-docs build test runs. Included by the top Makefile;
# paths are relative to this file so the include works from anywhere.
MODELS_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
GO ?= go

# The cached virtualenv with mkdocs and mkdocs-techdocs-core (see testdata/techdocs-venv.sh).
TECHDOCS_VENV = $(shell bash $(MODELS_DIR)/testdata/techdocs-venv.sh --print-venv)

# Environment the model-docs build test needs:
#   $(TECHDOCS_ENV) go test -run TestModelDocsBuildWithTechDocs ./internal/models/
TECHDOCS_ENV = MLPORTAL_TECHDOCS_VENV='$(TECHDOCS_VENV)'

.PHONY: techdocs-pyenv test-model-docs

techdocs-pyenv: ## Create the venv with mkdocs + mkdocs-techdocs-core for the model docs build test (cached by requirements hash)
	bash $(MODELS_DIR)/testdata/techdocs-venv.sh

test-model-docs: techdocs-pyenv ## Build a generated model docs tree with mkdocs --strict and techdocs-core
	$(TECHDOCS_ENV) $(GO) test -count=1 -run TestModelDocsBuildWithTechDocs -v ./internal/models/
