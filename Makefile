# Two commands do all the set-up on a fresh machine:
#   make demo   the whole product locally (simulators + moto), twice, with a report
#   make test   unit, integration and end-to-end tests, plus template validation and build
SHELL := /bin/bash
PYTHON := $(shell scripts/find-python)
VENV := .venv
TOOLS := .venv-tools
export SAM_CLI_TELEMETRY := 0
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: demo test style unit integration e2e template lint build bench clean

$(VENV)/.installed: pyproject.toml layers/deps/requirements.txt
	@echo "Creating $(VENV) with $(PYTHON)"
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[dev]'
	touch $@

$(TOOLS)/.installed: requirements-tools.txt
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install -q --upgrade pip
	$(TOOLS)/bin/pip install -q -r requirements-tools.txt
	touch $@

demo: $(VENV)/.installed
	$(VENV)/bin/ctns demo

test: $(VENV)/.installed style template
	$(VENV)/bin/pytest -q -n 2

style: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

unit: $(VENV)/.installed
	$(VENV)/bin/pytest -q tests/unit

integration: $(VENV)/.installed
	$(VENV)/bin/pytest -q tests/integration

e2e: $(VENV)/.installed
	$(VENV)/bin/pytest -q tests/e2e

# sam validate --lint and sam build, as CI runs them. The build needs a python3.13 on PATH (the runtime);
# the tools venv is made with it where it exists.
template: lint build

lint: $(TOOLS)/.installed
	$(TOOLS)/bin/sam validate --lint
	$(TOOLS)/bin/cfn-lint template.yaml

build: $(TOOLS)/.installed
	@if PATH="$(CURDIR)/$(TOOLS)/bin:$$PATH" command -v python3.13 >/dev/null; then \
	  PATH="$(CURDIR)/$(TOOLS)/bin:$$PATH" $(TOOLS)/bin/sam build; \
	else \
	  echo "sam build skipped: no python3.13 on this machine (the Lambda runtime); CI has one"; \
	fi

bench: $(VENV)/.installed
	$(VENV)/bin/python -m ctns.bench

clean:
	rm -rf build .aws-sam .pytest_cache
