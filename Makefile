# attn_research: set-up, tests, the main training job and benchmarks.
# Works on a fresh machine with only Python 3.11 and pip (uv is installed into the venv to speed things up).
# constraints.txt pins every package to the versions the tests last passed with (regenerate it with
# `.venv/bin/uv pip freeze --python .venv/bin/python | grep -v attn.research > constraints.txt`).
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
WORKDIR ?= workdirs/default
CONFIG ?= configs/synthetic.py:reverse
# Local copies of the data sets (SCAN, Multi30k) when the checkout sits beside shared/; else the builders download.
ifneq ($(wildcard ../shared/data),)
export ATTN_RESEARCH_DATA_DIR ?= $(abspath ../shared/data)
endif
export WANDB_MODE ?= offline

.PHONY: install test test-all train bench readme clean

install:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip uv
	$(VENV)/bin/uv pip install --python $(PY) -e ".[dev]" -c constraints.txt || $(PY) -m pip install -e ".[dev]" -c constraints.txt

test:
	$(PY) -m pytest -n 2 -m "not slow" tests

test-all:
	$(PY) -m pytest -n 2 tests

train:
	$(PY) -m attn_research.main --config=$(CONFIG) --workdir=$(WORKDIR) $(ARGS)

bench:
	$(PY) -m benchmarks.run

readme:
	$(PY) -m attn_research.readme

clean:
	rm -rf $(VENV) workdirs .pytest_cache
