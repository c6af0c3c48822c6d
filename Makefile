# Two commands do all the set-up on a fresh machine: `make up` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
REQUIREMENTS := pyproject.toml constraints.txt shared/requirements.txt \
                infra/requirements-local.txt inference_container/requirements.txt requirements-dev.txt
export SAM_CLI_TELEMETRY := 0

.PHONY: install up test test-fast lint-template reset lock clean

$(STAMP): $(REQUIREMENTS)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[api,worker,local,dev]'
	touch $(STAMP)

install: $(STAMP)  ## create .venv with everything the stack and the tests need

up: $(STAMP)  ## the whole local stack: emulator, API on :8000, worker, event-source runner
	$(BIN)/python -m infra.local.up

test: $(STAMP)  ## the whole suite: unit, integration (emulated AWS), e2e (local stack)
	$(BIN)/python -m pytest

test-fast: $(STAMP)  ## unit tests only
	$(BIN)/python -m pytest tests/unit -q

lint-template: $(STAMP)
	$(BIN)/cfn-lint template.yaml
	$(BIN)/sam validate --lint --region us-east-1 -t template.yaml

reset:  ## forget all local data (users, voices, jobs, audio)
	rm -rf $${VOXIFY_DATA_DIR:-.voxify}

lock:  ## re-pin constraints.txt from a fresh resolution of the declared ranges
	rm -rf .venv-lock && $(PYTHON) -m venv .venv-lock
	.venv-lock/bin/pip install --quiet --upgrade pip
	.venv-lock/bin/pip install --quiet -e '.[api,worker,local,dev]'
	.venv-lock/bin/pip freeze --exclude-editable | grep -v '^voxify' > constraints.txt
	rm -rf .venv-lock

clean:
	rm -rf $(VENV) .pytest_cache .aws-sam
