# The two commands of the README: `make run` and `make test`. Everything else supports them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# The address every link in the pages and e-mails starts with: where `make run` serves, unless
# GUARANTEE_BASE_URL is set (in the environment or on the command line).
GUARANTEE_BASE_URL ?= http://$(if $(filter 0.0.0.0,$(HOST)),127.0.0.1,$(HOST)):$(PORT)
export FLASK_APP := wsgi

ASSETS := guarantee/static/build/app.css
# Welsh (issue 23): the catalogue is committed, its compiled form is built here, never committed.
TRANSLATIONS := guarantee/translations
CATALOGUE := $(TRANSLATIONS)/cy/LC_MESSAGES/messages.po
COMPILED := $(TRANSLATIONS)/cy/LC_MESSAGES/messages.mo
# Browser tests drive Debian's Chromium (never a downloaded browser).
CHROMIUM ?= /usr/bin/chromium

.PHONY: translations run sign-on-provider test lint typecheck unit openapi diagram clean assets browser bench soak audit-deps readability accessibility-results

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.run-installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet --requirement requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet --requirement requirements-dev.txt
	touch $@ $(VENV)/.run-installed

# GOV.UK Frontend (and, for the tests, axe-core) from the npm registry, versions locked.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(ASSETS): node_modules/.installed assets/app.scss assets/build.mjs
	node assets/build.mjs

## assets: build the stylesheet and scripts the pages use (guarantee/static/build/)
assets: $(ASSETS)

$(COMPILED): $(CATALOGUE) | $(VENV)/.run-installed
	$(BIN)/python -m tools.compile_translations

## translations: extract every marked text into messages.pot, bring the Welsh catalogue up to date
## with it (new texts arrive untranslated; tests/test_translations.py fails until each is translated),
## and compile it
translations: $(VENV)/.dev-installed
	$(BIN)/pybabel extract --mapping-file babel.cfg --keyword N_ --keyword words --keyword _l \
	  --keyword lazy_gettext --keyword lazy_ngettext:1,2 --no-location --sort-output \
	  --no-wrap --project guarantee --msgid-bugs-address "" --output-file $(TRANSLATIONS)/messages.pot .
	$(BIN)/pybabel update --input-file $(TRANSLATIONS)/messages.pot --output-dir $(TRANSLATIONS) --domain messages \
	  --no-fuzzy-matching --ignore-obsolete --no-wrap
	$(BIN)/python -m tools.compile_translations

## browser: install what the tests drive from Debian's packages, where missing and we may:
## Chromium for the browser tests, Graphviz for the diagram's, wrk for the benchmark's smoke run
browser:
	@if [ ! -x $(CHROMIUM) ] || ! command -v dot >/dev/null 2>&1 || ! command -v wrk >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing Debian's chromium, graphviz and wrk for the tests"; \
	    apt-get install -y -q --no-install-recommends chromium graphviz wrk >/dev/null 2>&1 || \
	      (apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends chromium graphviz wrk >/dev/null); \
	  else \
	    echo "No $(CHROMIUM), dot or wrk: the browser, diagram-drawing and benchmark smoke tests will be skipped (apt-get install chromium graphviz wrk, as root)"; \
	  fi; \
	fi

## sign-on-provider: a test OpenID Provider on http://127.0.0.1:9090 for trying single sign-on with
## make run (README: Single sign-on); it asks no password, so never for a real service
sign-on-provider: node_modules/.installed
	node tests/support/oidc_provider.mjs --port 9090 --redirect-uri $(GUARANTEE_BASE_URL)/officer/sign-in/oidc/callback

## run: set up the virtual environment, migrate the database and serve on http://127.0.0.1:8000
## (make run PORT=8101 serves on 8101, and its links point there)
run: $(VENV)/.run-installed $(ASSETS) $(COMPILED)
	$(BIN)/flask db upgrade
	@echo ""
	@echo "guarantee is starting on http://$(HOST):$(PORT)  (health: /healthz, readiness: /readyz)"
	@echo "Its links (pages and e-mails) start with $(GUARANTEE_BASE_URL)  (GUARANTEE_BASE_URL)"
	@echo "Create your first officer account (you will be asked for a password):"
	@echo "    $(BIN)/flask guarantee create-officer --email you@council.example --name 'Your Name' --role admin"
	@echo "Add demonstration claims in every state:  $(BIN)/flask guarantee seed-demo"
	@echo "Send notifications (written to instance/mail/ until an SMTP host is set) and webhooks, in another terminal:"
	@echo "    GUARANTEE_BASE_URL=$(GUARANTEE_BASE_URL) $(BIN)/flask guarantee notify --loop"
	@echo ""
	GUARANTEE_BASE_URL='$(GUARANTEE_BASE_URL)' exec $(BIN)/gunicorn --bind $(HOST):$(PORT) --no-control-socket wsgi:app

## test: install what the tests need, check style and types, run the whole suite
test: lint typecheck unit

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.dev-installed
	$(BIN)/mypy

unit: $(VENV)/.dev-installed $(ASSETS) $(COMPILED) browser
	$(BIN)/pytest -n 2 -m "not soak" --durations=15
	$(BIN)/pytest -m soak

## bench: the benchmark suite (benchmarks/README.md); e.g. make bench BENCH_DATABASES=sqlite BENCH_CLAIMS=10000
BENCH_DATABASES ?= sqlite,postgresql
BENCH_CLAIMS ?= 10000,1000000
BENCH_DURATION ?= 10
bench: $(VENV)/.dev-installed $(COMPILED) browser
	$(BIN)/python -m benchmarks.run --databases $(BENCH_DATABASES) --claims $(BENCH_CLAIMS) --duration $(BENCH_DURATION)

## soak: the soak and fault run (RELIABILITY.md; as root): 10 minutes on PostgreSQL; e.g. make soak SOAK_ARGS="--short --database sqlite"
SOAK_ARGS ?=
soak: $(VENV)/.dev-installed
	$(BIN)/python -m soak.run $(SOAK_ARGS)

## audit-deps: known vulnerabilities in every pinned dependency (pip-audit); fails on any, and on
## "could not check" once SECURITY.md's dated exception lapses (CI runs it)
AUDIT_VENV := .venv-audit
$(AUDIT_VENV)/.installed: requirements-audit.txt
	$(PYTHON) -m venv $(AUDIT_VENV)
	$(AUDIT_VENV)/bin/pip install --quiet --requirement requirements-audit.txt
	touch $@

audit-deps: $(AUDIT_VENV)/.installed
	$(AUDIT_VENV)/bin/python tools/audit_deps.py

## openapi: regenerate the committed API contract after an intended change
openapi: $(VENV)/.run-installed
	$(BIN)/flask openapi write openapi.json

## readability: the reading ease of every public page and e-mail, written into README.md
readability: $(VENV)/.dev-installed
	$(BIN)/python -m tests.readability --write

## accessibility-results: run the browser tests, recording axe-core's result for every page they check,
## into docs/accessibility/axe-results.json (the accessibility statement at /accessibility reads it)
AXE_RECORD := test-output/axe-results.jsonl
accessibility-results: $(VENV)/.dev-installed $(ASSETS) $(COMPILED) browser
	rm -f $(AXE_RECORD)
	GUARANTEE_RECORD_AXE=$(CURDIR)/$(AXE_RECORD) GUARANTEE_SCREENSHOTS=0 GUARANTEE_REQUIRE_BROWSER=1 \
	  $(BIN)/pytest -n 2 -m "not soak" -p no:cacheprovider $(wildcard tests/*_browser.py)
	$(BIN)/python -m tools.accessibility_results $(AXE_RECORD) docs/accessibility/axe-results.json

## diagram: draw the workflow again (guarantee/static/workflow.svg, and workflow.cy.svg in Welsh) after changing workflows/
diagram: $(VENV)/.run-installed $(COMPILED)
	$(BIN)/flask guarantee diagram --output guarantee/static/workflow.svg
	$(BIN)/flask guarantee diagram --language cy

clean:
	rm -rf $(VENV) $(AUDIT_VENV) .pytest_cache .mypy_cache .ruff_cache node_modules guarantee/static/build test-output
