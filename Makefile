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
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	# The cmkctl command (.venv/bin/cmkctl), pointing at this checkout.
	$(BIN)/python -m pip install --quiet --no-deps --editable .
	rm -f $(VENV)/.installed*
	touch $(STAMP)

# The virtualenv alone (CI jobs that only run cmkctl).
install: $(STAMP)

preview: $(STAMP)
	@for stack in $(STACKS); do \
	  echo "== stack $$stack"; \
	  $(BIN)/cmkctl preview --stack $$stack --out out/$$stack.plan.json || exit $$?; \
	  $(BIN)/cmkctl check --strict --plan out/$$stack.plan.json || exit $$?; \
	done

plans: $(STAMP)
	@for stack in $(SNAPSHOT_STACKS); do \
	  $(BIN)/cmkctl preview --stack $$stack --out plans/$$stack.json > /dev/null || exit $$?; \
	  echo "plans/$$stack.json"; \
	done

# Mermaid's own parser (npm) for the test that checks `cmkctl graph` output; optional.
mermaid-tools:
	npm install --silent --no-audit --no-fund --prefix .tools mermaid@11 jsdom@26

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy components cmkctl policies

test: $(STAMP) lint
	$(BIN)/python -m pytest -p no:cacheprovider

clean:
	rm -rf $(VENV) out
