# Halfbie: `make run` starts the bot, `make test` checks everything.
# Both create .venv on first use; nothing is installed outside it.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: run sync test lint format faults bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.run: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	@touch $@

$(VENV)/.dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[dev]'
	@touch $@ $(VENV)/.run

run: $(VENV)/.run  ## start the bot with the settings in .env
	$(BIN)/halfbie

sync: $(VENV)/.run  ## push the slash commands to Discord now
	$(BIN)/halfbie sync

lint: $(VENV)/.dev  ## ruff and mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint  ## lint, then the whole test suite (the quick fault tests included)
	$(BIN)/pytest -q

faults: $(VENV)/.dev  ## the long fault suite
	$(BIN)/pytest -q -m slow

# BENCH_DATABASE_URL=postgresql://... adds PostgreSQL (fresh databases, dropped after);
# BENCH_ARGS passes options (python -m bench --help). Exits 1 when a target is missed.
bench: $(VENV)/.dev  ## speed and memory, bot against a bare discord.py bot
	$(BIN)/python -m bench $(BENCH_ARGS)

format: $(VENV)/.dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
