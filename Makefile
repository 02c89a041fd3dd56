# Two entry points: `make preview` (offline plans and checks of the example stacks) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Which interpreter builds the venv: a venv made by another Python is rebuilt, never reused.
PY_ID := import sys; print(sys.implementation.name + "-" + ".".join(map(str, sys.version_info[:3])))
PY_TAG := $(shell $(PYTHON) -c '$(PY_ID)' 2>/dev/null)
STAMP := $(VENV)/.installed-$(PY_TAG)
STACKS ?= dev customer provider credstore org snowflake govcustomer govprovider byovault

.PHONY: install preview plans mermaid-tools test lint check-plans clean

# Every example stack has a committed plan snapshot in plans/ (tests fail when one is stale);
# users' own stack files beside them are not snapshotted.
SNAPSHOT_STACKS := byovault credstore customer dev govcustomer govprovider org provider snowflake

$(STAMP): requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || { \
	  echo "dedicated-cmk needs Python 3.11+ (found: $$($(PYTHON) --version 2>&1)); set PYTHON=, e.g. make PYTHON=python3.11" >&2; \
	  exit 1; }
	@if [ -e $(VENV) ] && [ "$$($(BIN)/python -c '$(PY_ID)' 2>/dev/null)" != "$(PY_TAG)" ]; then \
	  echo "$(VENV) was built by another Python; rebuilding it with $(PYTHON) ($(PY_TAG))"; \
	  rm -rf $(VENV); fi
	@echo "installing requirements into $(VENV) (a minute or two on a fresh clone)"
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	# The cmkctl command (.venv/bin/cmkctl), pointing at this checkout.
	$(BIN)/python -m pip install --quiet --no-deps --editable .
	rm -f $(VENV)/.installed*
	touch $(STAMP)

# The virtualenv alone (CI jobs that only run cmkctl).
install: $(STAMP)

# One pooled fleet run (the SDKs load once per worker; unchanged stacks come from the plan
# cache in out/plan-cache), then each plan copied to out/<stack>.plan.json.
preview: $(STAMP)
	@$(BIN)/cmkctl fleet --stacks $(STACKS) --strict --out-dir out/fleet --cache-dir out/plan-cache
	@for stack in $(STACKS); do cp out/fleet/$$stack.json out/$$stack.plan.json; done
	@echo "plans written to out/<stack>.plan.json"

plans: $(STAMP)
	@for stack in $(SNAPSHOT_STACKS); do \
	  $(BIN)/cmkctl preview --stack $$stack --out plans/$$stack.json > /dev/null || exit $$?; \
	  echo "plans/$$stack.json"; \
	done

# Mermaid's own parser (npm) for the test that checks `cmkctl graph` output; optional.
mermaid-tools:
	npm install --silent --no-audit --no-fund --prefix .tools mermaid@11 jsdom@26

# mypy keeps its cache in the venv: only the first run (about 90 s on 2 cores) checks everything.
lint: $(STAMP)
	$(BIN)/ruff check .
	@echo "mypy (strict; the first run after an install takes a minute or two)"
	$(BIN)/mypy --cache-dir $(VENV)/.mypy_cache components cmkctl policies bench

# Tests in parallel (pytest-xdist), a test file per worker: module fixtures are built once.
PYTEST_WORKERS ?= auto
test: $(STAMP) lint
	$(BIN)/python -m pytest -p no:cacheprovider -n $(PYTEST_WORKERS) --dist loadfile

clean:
	rm -rf $(VENV) out
