# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test lint format bench clean

$(BIN)/smsbridge: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(BIN)/smsbridge

demo: $(BIN)/smsbridge
	$(BIN)/smsbridge demo

test: $(BIN)/smsbridge
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest -W error -q

lint: $(BIN)/smsbridge
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(BIN)/smsbridge
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(BIN)/smsbridge
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
