# attn_research: set-up, tests, the main training job and benchmarks.
# Works on a fresh machine with only Python 3.11 and pip (uv is installed into the venv to speed things up).
# constraints.txt pins every package to the versions the tests last passed with (regenerate it with
# `.venv/bin/uv pip freeze --python .venv/bin/python | grep -v attn.research > constraints.txt`).
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
WORKDIR ?= workdirs/default
CONFIG ?= configs/synthetic.py:task=reverse
# Local copies of the data sets (SCAN, Multi30k) when the checkout sits beside shared/; else the builders download.
ifneq ($(wildcard ../shared/data),)
export ATTN_RESEARCH_DATA_DIR ?= $(abspath ../shared/data)
endif
export WANDB_MODE ?= offline

.PHONY: install lint format test test-all train bench readme clean

# `sweeps` (wandb's sweep engine, used by attn_research.sweeps) pins numpy<2 but works with numpy 2, so it is
# installed without its dependencies (the others are in pyproject.toml).
install:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip uv
	$(VENV)/bin/uv pip install --python $(PY) -e ".[dev]" -c constraints.txt || $(PY) -m pip install -e ".[dev]" -c constraints.txt
	$(VENV)/bin/uv pip install --python $(PY) --no-deps sweeps -c constraints.txt || $(PY) -m pip install --no-deps sweeps -c constraints.txt

# ruff (pyproject.toml, [tool.ruff]): the formatter's check and the linter; `make format` applies both.
lint:
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .

format:
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

test:
	$(PY) -m pytest -n 2 --dist worksteal -m "not slow" --durations=15 tests

test-all:
	$(PY) -m pytest -n 2 --dist worksteal tests

# Results go to $(WORKDIR)/results.json only; ARGS=--config.results_dir=results records them under results/.
train:
	$(PY) -m attn_research.main --config=$(CONFIG) --workdir=$(WORKDIR) $(ARGS)

# Benchmarks (README, "Benchmarks"); BENCH_ARGS=--quick for a smoke run, --only NAME,... to pick some.
bench:
	$(PY) -m benchmarks.run $(BENCH_ARGS)

readme:
	$(PY) -m attn_research.readme

clean:
	rm -rf $(VENV) workdirs .pytest_cache
