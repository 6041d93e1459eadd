# Two commands do everything on a fresh clone (see README):
#   make demo   train PPOPenalty on CartPole-v1, save, evaluate, print the mean return
#   make test   lint, type-check, run the whole test suite (with the docs opened in headless Chromium, where
#               it is installed) and build the docs (strict)
# Both create (or reuse) the virtual environment in $(VENV).

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.sb3-notes-installed
# Torch pinned only for the set-up on a machine with no torch yet: this version installs a CPU build
# from a local copy on the project's machines. Users installing with pip get the normal `torch` range.
TORCH_PIN ?= torch==2.13.0

.PHONY: venv demo test lint typecheck pytest docs clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install -q "$(TORCH_PIN)"
	$(PY) -m pip install -q -e ".[all]"
	touch $(STAMP)

demo: venv
	$(PY) -m sb3_notes.demo

lint: venv
	$(VENV)/bin/ruff check sb3_notes tests examples benchmarks docs_hooks
	$(VENV)/bin/ruff format --check sb3_notes tests examples benchmarks docs_hooks

typecheck: venv
	$(VENV)/bin/mypy sb3_notes

pytest: venv
	$(VENV)/bin/pytest -n 2 --dist loadgroup -q

docs: venv
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --quiet

test: lint typecheck pytest docs

clean:
	rm -rf $(VENV) demo_output site .pytest_cache .mypy_cache .ruff_cache
