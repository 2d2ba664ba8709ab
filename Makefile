# Two commands do all the set-up on a fresh machine:
#   make demo   the whole product locally (simulators + moto), three nights, with a report
#   make test   unit, integration and end-to-end tests, plus template validation and build
SHELL := /bin/bash
PYTHON := $(shell scripts/find-python)
VENV := .venv
TOOLS := .venv-tools
CHECKOV := .venv-checkov
export SAM_CLI_TELEMETRY := 0
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: demo serve tools test style unit integration e2e template lint checkov build bench soak mutate clean

$(VENV)/.installed: pyproject.toml layers/deps/requirements.txt
	@echo "Creating $(VENV) with $(PYTHON): the first time takes a few minutes of downloads and installs"
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	# The layer's pins as constraints: the tests run the versions the DepsLayer ships.
	$(VENV)/bin/pip install -q -c layers/deps/requirements.txt -e '.[dev]'
	touch $@

$(TOOLS)/.installed: requirements-tools.txt
	@echo "Creating $(TOOLS) (SAM CLI, cfn-lint) with $(PYTHON): the first time takes a minute or two"
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install -q --upgrade pip
	$(TOOLS)/bin/pip install -q -r requirements-tools.txt
	touch $@

# checkov pins boto3, packaging and networkx to versions SAM CLI does not accept: a virtualenv of its own.
$(CHECKOV)/.installed: requirements-checkov.txt
	$(PYTHON) -m venv $(CHECKOV)
	$(CHECKOV)/bin/pip install -q --upgrade pip
	$(CHECKOV)/bin/pip install -q -r requirements-checkov.txt
	touch $@

demo: $(VENV)/.installed
	$(VENV)/bin/ctns demo

# A local stack (moto + both simulators) that outlives one command: `ctns status`, `errors`, `trace`, `plan`,
# `check` and `redrive` work against it from another terminal. Ctrl-C stops it.
serve: $(VENV)/.installed
	$(VENV)/bin/ctns serve

# SAM CLI for the deploy steps (docs/deploy.md): .venv-tools/bin/sam
tools: $(TOOLS)/.installed

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

# sam validate --lint, cfn-lint, checkov and sam build, as CI runs them. SAM CLI expands the template's
# AWS::LanguageExtensions (Fn::ForEach) because samconfig.toml says language_extensions = true; `check-sam-cli`
# makes sure ctns.stack (the local runner's and the tests' expansion) yields the same resources and outputs as
# SAM CLI's. The build needs a python3.13 on PATH (the runtime); the tools venv is made with it where it exists.
template: lint checkov build

lint: $(TOOLS)/.installed
	$(TOOLS)/bin/sam validate --lint
	$(TOOLS)/bin/cfn-lint template.yaml
	PYTHONPATH=$(CURDIR) $(TOOLS)/bin/python -m ctns.stack check-sam-cli template.yaml

# checkov does not expand Fn::ForEach (it would see none of the per-sync resources), so it reads the template
# as the language-extensions transform leaves it: `python -m ctns.stack expand`, the expansion the local
# runner and the template tests use. Skipped checks carry their reason in the resource's Metadata.
checkov: $(VENV)/.installed $(CHECKOV)/.installed
	@mkdir -p build
	$(VENV)/bin/python -m ctns.stack expand template.yaml > build/template.expanded.json
	$(CHECKOV)/bin/checkov -f build/template.expanded.json --framework cloudformation --skip-download --compact --quiet

build: $(TOOLS)/.installed
	@if PATH="$(CURDIR)/$(TOOLS)/bin:$$PATH" command -v python3.13 >/dev/null; then \
	  PATH="$(CURDIR)/$(TOOLS)/bin:$$PATH" $(TOOLS)/bin/sam build; \
	else \
	  echo "sam build skipped: no python3.13 on this machine (the Lambda runtime); CI has one"; \
	fi

# Not part of `make test`. Builds the stack first (the deps layer's size is read from .aws-sam/build), then
# measures; `make bench BENCH_ARGS=--quick` for development, `python -m ctns.bench --help` for the sizes.
bench: $(VENV)/.installed build
	$(VENV)/bin/python -m ctns.bench $(BENCH_ARGS)

# Not part of `make test`: many nights of every sync with both simulators failing more often (seeded; the seed is
# printed first), 1,003 records of one timestamp through NetSuite's 1,000-row page, records changing while a poller
# pages. Prints records per sync, faults by kind, lost and duplicated; writes build/soak-report.json.
# `make soak SOAK_ARGS="--seed 1234 --nights 8"` replays or lengthens one.
soak: $(VENV)/.installed
	$(VENV)/bin/python -m tests.e2e.soak $(SOAK_ARGS)

# Mutation testing of the engine and the clients' paging and retries (not part of `make test`; docs/mutation.md).
# MODULE=ctsync/sync/poller.py (or poller) for one module; MUTATE_JOBS=2 to run two mutants at a time.
$(VENV)/.mutate-installed: $(VENV)/.installed pyproject.toml
	$(VENV)/bin/pip install -q -e '.[dev,mutate]'
	touch $@

mutate: $(VENV)/.mutate-installed
	nice -n 15 $(VENV)/bin/python scripts/mutate.py $(MODULE)
	nice -n 15 $(VENV)/bin/python scripts/named_mutants.py

clean:
	rm -rf build .aws-sam .pytest_cache
