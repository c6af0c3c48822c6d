# Two commands do all the set-up on a fresh machine: `make up` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
REQUIREMENTS := pyproject.toml constraints.txt shared/requirements.txt infra/requirements-local.txt cli/requirements.txt \
                inference_container/requirements.txt inference_container/requirements-f5tts.txt requirements-dev.txt \
                infra/system_packages.sh
# torch first: 2.13.0 is a CPU build on this project's machines (pip takes it from the local
# wheel store); f5-tts and resemblyzer without their declared deps (see
# inference_container/requirements-f5tts.txt and requirements.txt).
define INSTALL_INTO
	$(1)/bin/pip install --quiet --upgrade pip
	$(1)/bin/pip install --quiet torch==2.13.0
	$(1)/bin/pip install --quiet --no-deps f5-tts==1.1.22 resemblyzer==0.1.4
	$(1)/bin/pip install --quiet $(2) -e '.[api,worker,f5tts,local,dev,cli]'
	$(1)/bin/python inference_container/strip_torchaudio_extension.py
endef
export SAM_CLI_TELEMETRY := 0

.PHONY: install up test test-fast lint bench resilience lint-template reset lock clean

$(STAMP): $(REQUIREMENTS)
	$(PYTHON) -m venv $(VENV)
	$(call INSTALL_INTO,$(VENV),-c constraints.txt)
	sh infra/system_packages.sh
	touch $(STAMP)

install: $(STAMP)  ## create .venv with everything the stack and the tests need

up: $(STAMP)  ## the whole local stack: emulator, API on :8000, worker, event-source runner
	$(BIN)/python -m infra.local.up

test: $(STAMP)  ## the whole suite: unit, integration (emulated AWS), e2e (local stack)
	$(BIN)/python -m pytest

test-fast: $(STAMP)  ## unit tests only
	$(BIN)/python -m pytest tests/unit -q

# all three run, so one report shows every finding; mypy's paths are [tool.mypy] files in
# pyproject.toml (shared/voxify, inference_container/voxify_worker, functions)
lint: $(STAMP)  ## ruff lint, ruff format check, mypy (strict on voxify and voxify_worker)
	@status=0; \
	$(BIN)/ruff check . || status=1; \
	$(BIN)/ruff format --check . || status=1; \
	$(BIN)/mypy || status=1; \
	exit $$status

bench: $(STAMP)  ## print engine RTFs and voice quality, API load, pipeline overhead, batch throughput, cold starts, embedding, watermark and streaming figures
	$(BIN)/python -m bench.engine_rtf
	$(BIN)/python -m bench.f5_batching
	$(BIN)/python -m bench.voice_quality
	$(BIN)/python -m bench.api_load
	$(BIN)/python -m bench.pipeline_overhead
	$(BIN)/python -m bench.batch_throughput
	$(BIN)/python -m bench.cold_start
	$(BIN)/python -m bench.voice_index
	$(BIN)/python -m bench.watermark_robustness
	$(BIN)/python -m bench.streaming
	$(BIN)/python -m bench.capacity_sim

resilience: $(STAMP)  ## the long resilience runs: 200 jobs under worker kills, deeper schema fuzzing
	VOXIFY_RESILIENCE_JOBS=200 VOXIFY_FUZZ_EXAMPLES=100 $(BIN)/python -m pytest tests/resilience -v

lint-template: $(STAMP)
	$(BIN)/cfn-lint template.yaml
	$(BIN)/sam validate --lint --region us-east-1 -t template.yaml

reset:  ## forget all local data (users, voices, jobs, audio)
	rm -rf $${VOXIFY_DATA_DIR:-.voxify}

lock:  ## re-pin constraints.txt from a fresh resolution of the declared ranges
	rm -rf .venv-lock && $(PYTHON) -m venv .venv-lock
	$(call INSTALL_INTO,.venv-lock,-c constraints.txt)
	.venv-lock/bin/pip freeze --exclude-editable | grep -v '^voxify' > constraints.txt
	rm -rf .venv-lock

clean:
	rm -rf $(VENV) .pytest_cache .aws-sam
