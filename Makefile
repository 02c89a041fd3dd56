# Two entry points: `make preview` (offline plan of the dev stack) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
STACKS ?= dev customer provider credstore org snowflake

.PHONY: preview plans mermaid-tools test lint check-plans clean

# Every example stack has a committed plan snapshot in plans/ (tests fail when one is stale);
# users' own stack files beside them are not snapshotted.
SNAPSHOT_STACKS := credstore customer dev org provider snowflake

$(STAMP): requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $(STAMP)

preview: $(STAMP)
	@for stack in $(STACKS); do \
	  echo "== stack $$stack"; \
	  $(BIN)/python -m cmkctl preview --stack $$stack --out out/$$stack.plan.json || exit $$?; \
	  $(BIN)/python -m cmkctl check --strict --plan out/$$stack.plan.json || exit $$?; \
	done

plans: $(STAMP)
	@for stack in $(SNAPSHOT_STACKS); do \
	  $(BIN)/python -m cmkctl preview --stack $$stack --out plans/$$stack.json > /dev/null || exit $$?; \
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
