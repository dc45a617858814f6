# The real `mlflow server` the load generator's -mode mlflow (and its correctness test) runs,
# with psycopg2 for a PostgreSQL backend store. Included by the top Makefile; paths are
# relative to this file so the include works from anywhere.
LOADGEN_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))

# The cached virtualenv (see testdata/pyenv-mlflow-server.sh).
MLFLOW_SERVER_VENV = $(shell bash $(LOADGEN_DIR)/testdata/pyenv-mlflow-server.sh --print-venv)

# Environment the MLflow side-by-side test and load run need:
#   $(MLFLOW_SERVER_ENV) go test -run TestMLflowModeGivesTheSameAnswers ./internal/loadgen/
MLFLOW_SERVER_ENV = MLPORTAL_MLFLOW_SERVER_VENV='$(MLFLOW_SERVER_VENV)'

.PHONY: mlflow-server-pyenv

mlflow-server-pyenv: ## Create the venv with mlflow server 3.x and psycopg2 for the MLflow side-by-side run (cached by requirements hash)
	bash $(LOADGEN_DIR)/testdata/pyenv-mlflow-server.sh
