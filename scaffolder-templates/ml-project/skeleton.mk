# The ML project skeleton's Python environment for the integration tier. Included by the top
# Makefile; paths are relative to this file so the include works from anywhere.
SKELETON_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
GO ?= go

# The cached virtualenv for the pinned skeleton/requirements.txt (see pyenv.sh).
SKELETON_VENV = $(shell bash $(SKELETON_DIR)/pyenv.sh --print-venv)

# Environment the skeleton's integration test needs: prefix `go test` with it, e.g.
#   $(SKELETON_ENV) go test ./internal/render/
SKELETON_ENV = MLPORTAL_SKELETON_VENV='$(SKELETON_VENV)'

.PHONY: skeleton-pyenv test-skeleton

skeleton-pyenv: ## Create the ML project skeleton's Python venv (mlflow, scikit-learn; cached by requirements hash)
	bash $(SKELETON_DIR)/pyenv.sh

test-skeleton: skeleton-pyenv ## Render the ML project skeleton, run its pytest suite and a real MLflow training run
	$(SKELETON_ENV) $(GO) test -count=1 -run TestSkeletonRunsInPython ./internal/render/
