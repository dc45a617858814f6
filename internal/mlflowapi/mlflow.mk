# The real mlflow clients internal/mlflowapi's compatibility test runs. Included by the top
# Makefile; paths are relative to this file so the include works from anywhere.
MLFLOWAPI_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
GO ?= go

# The cached virtualenv with the pinned mlflow 2.x client (see testdata/pyenv-mlflow2.sh).
MLFLOW2_VENV = $(shell bash $(MLFLOWAPI_DIR)/testdata/pyenv-mlflow2.sh --print-venv)

# Environment the MLflow client test needs besides $(SKELETON_ENV) (mlflow 3.x):
#   $(SKELETON_ENV) $(MLFLOW2_ENV) go test -run TestMLflowClient ./internal/mlflowapi/
MLFLOW2_ENV = MLPORTAL_MLFLOW2_VENV='$(MLFLOW2_VENV)'

.PHONY: mlflow2-pyenv test-mlflow

mlflow2-pyenv: ## Create the venv with the mlflow 2.x client for the MLflow compatibility test (cached by requirements hash)
	bash $(MLFLOWAPI_DIR)/testdata/pyenv-mlflow2.sh

test-mlflow: skeleton-pyenv mlflow2-pyenv postgres ## Run the stock mlflow 2.x and 3.x clients against an in-process mlportal (SQLite, PostgreSQL)
	$(TESTENV_ENV) $(SKELETON_ENV) $(MLFLOW2_ENV) $(GO) test -count=1 -run TestMLflowClient -v ./internal/mlflowapi/
