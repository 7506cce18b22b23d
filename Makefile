# The whole set-up is `make demo` or `make test`: both create .venv on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint bench clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip==25.3"
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/meshcert demo

# pytest exits 5 when it collects nothing; that is not a failure of the code under test.
# The selftest then proves the suites can fail: every MUST requirement's defect is detected.
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -n 2 $(PYTEST_ARGS); rc=$$?; [ $$rc -eq 5 ] || [ $$rc -eq 0 ] || exit $$rc
	$(BIN)/meshcert selftest --profile all --jobs 2

lint: $(STAMP)
	$(BIN)/ruff check .

bench: $(STAMP)
	$(BIN)/python bench/population.py

clean:
	rm -rf $(VENV) reports/out .pytest_cache .hypothesis
