# Leerloop. Two commands matter: `make run` and `make test`. Both install what they need.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install model run test test-slow test-all lint lock clean rasa test-rasa

install: $(STAMP)

# Idempotent: the venv is (re)built only when the lock file or pyproject.toml changes.
$(STAMP): requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $(STAMP)

# The NLU model is not committed: train it when missing or older than its data/config/code.
model: install
	$(BIN)/leerloop nlu train --if-stale

run: model
	$(BIN)/leerloop start

# Every behaviour, quickly, on every core (pytest-xdist; TEST_WORKERS=0 runs in one process).
# Retraining, the classifiers config.yml does not use, the wheel build, the API fuzzer and the
# multi-process scale tests are marked slow: `make test-slow` (one process; CI runs both),
# `make test-all` for everything at once.
TEST_WORKERS ?= auto
test: model
	$(BIN)/python -m pytest -m "not slow" -n $(TEST_WORKERS) $(PYTEST_ARGS)

test-slow: model
	$(BIN)/python -m pytest -m slow $(PYTEST_ARGS)

test-all: model
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Rasa Open Source 3.6.21 in its own venv (.rasa-venv) on a Python it supports (< 3.11), from the
# package registries; for the Rasa end-to-end test (tests/e2e/test_rasa.py) and bench/rasa_compare.py.
rasa:
	bash .ci/install-rasa

test-rasa: model rasa
	$(BIN)/python -m pytest -m slow tests/e2e/test_rasa.py $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# Regenerate the lock file from pyproject.toml (needs the network to a package index).
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install --quiet -e '.[dev]'
	{ echo "# Locked dependencies (runtime + dev). Regenerate with: make lock"; \
	  .lock-venv/bin/pip freeze --exclude-editable | grep -v '^#'; } > requirements.lock
	rm -rf .lock-venv

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
