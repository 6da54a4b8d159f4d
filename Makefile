# The two commands a new user needs: `make demo` and `make test`. Each sets itself up first.
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: setup demo test lint bench clean

$(BIN)/edgeecg: pyproject.toml scripts/setup.sh
	bash scripts/setup.sh
	@touch $@

setup: $(BIN)/edgeecg

demo: setup
	$(BIN)/edgeecg demo

test: setup
	$(BIN)/python -m pytest -q

lint: setup
	$(BIN)/ruff check edgeecg tests benchmarks

bench: setup
	$(BIN)/edgeecg bench synth

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
