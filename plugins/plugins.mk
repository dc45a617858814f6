# Make targets of the Backstage plugins (plugins/), included by the top-level Makefile.
# Paths are relative to the repository root, where make runs.

PLUGINS_DIR   ?= plugins
PLUGINS_STAMP := $(PLUGINS_DIR)/node_modules/.mlportal-install-stamp
PLUGINS_MANIFESTS := $(PLUGINS_DIR)/package-lock.json $(PLUGINS_DIR)/package.json \
	$(PLUGINS_DIR)/mlportal-backend/package.json $(PLUGINS_DIR)/mlportal-common/package.json \
	$(PLUGINS_DIR)/mlportal-node/package.json $(PLUGINS_DIR)/mlportal-scaffolder-module/package.json \
	$(PLUGINS_DIR)/mlportal-catalog-module/package.json $(PLUGINS_DIR)/mlportal-techdocs-module/package.json

.PHONY: plugins-install plugins-generate plugins-check-generated plugins-tsc test-plugins bench-plugins

plugins-install: $(PLUGINS_STAMP) ## Install the plugins' npm dependencies (npm ci; skipped while node_modules matches package-lock.json)

$(PLUGINS_STAMP): $(PLUGINS_MANIFESTS) ## (file) stamp of the last npm ci, newer than the lockfile while installed
	cd $(PLUGINS_DIR) && npm ci --no-audit --no-fund
	touch $@

plugins-generate: plugins-install ## Regenerate the plugins' TypeScript API types from internal/api/openapi.yaml
	cd $(PLUGINS_DIR) && npm run generate

plugins-check-generated: plugins-install ## Fail when the plugins' generated TypeScript types are stale against the OpenAPI document
	cd $(PLUGINS_DIR) && npm run generate:check

plugins-tsc: plugins-install ## Type-check the plugins
	cd $(PLUGINS_DIR) && npm run tsc

# techdocs-pyenv (internal/models/models.mk): the TechDocs module's tests build model docs with its mkdocs.
test-plugins: plugins-install build techdocs-pyenv ## Run the plugins' tests (unit, and integration against a real bin/mlportal, TechDocs with real mkdocs)
	cd $(PLUGINS_DIR) && CI=true MLPORTAL_BIN=$(CURDIR)/bin/mlportal $(TECHDOCS_ENV) npm test

bench-plugins: plugins-install build ## Benchmark the catalog module's full sync of 10,000 models against a real bin/mlportal (MODELS=n to change)
	cd $(PLUGINS_DIR)/mlportal-catalog-module && CI=true MLPORTAL_BIN=$(CURDIR)/bin/mlportal npm run bench
