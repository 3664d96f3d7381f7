# The two commands of the README: `make run` and `make test`. Everything else supports them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
WORKERS ?= 2
export FLASK_APP := wsgi

.PHONY: run test lint typecheck unit openapi clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.run-installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet --requirement requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet --requirement requirements-dev.txt
	touch $@ $(VENV)/.run-installed

## run: set up the virtual environment, migrate the database and serve on http://127.0.0.1:8000
run: $(VENV)/.run-installed
	$(BIN)/flask db upgrade
	@echo ""
	@echo "guarantee is starting on http://$(HOST):$(PORT)  (health: /healthz, readiness: /readyz)"
	@echo "Create your first officer account (you will be asked for a password):"
	@echo "    $(BIN)/flask guarantee create-officer --email you@council.example --name 'Your Name' --role admin"
	@echo "Add demonstration claims in every state:  $(BIN)/flask guarantee seed-demo"
	@echo ""
	exec $(BIN)/gunicorn --bind $(HOST):$(PORT) --workers $(WORKERS) --no-control-socket wsgi:app

## test: install what the tests need, check style and types, run the whole suite
test: lint typecheck unit

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.dev-installed
	$(BIN)/mypy

unit: $(VENV)/.dev-installed
	$(BIN)/pytest -n 2

## openapi: regenerate the committed API contract after an intended change
openapi: $(VENV)/.run-installed
	$(BIN)/flask openapi write openapi.json

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
