# The whole set-up is `make demo` or `make test`: both create .venv on first use.
PYTHON ?= python3
# Python caches compiled modules in __pycache__ (ignored by git). Some machines turn that off
# (PYTHONDONTWRITEBYTECODE); then each of the hundreds of processes a test run starts (simulators,
# Locust, the CLI) compiles every project module again. The suites' pytest writes none itself
# (meshcert/certify/pytest_run.py: a certification leaves the checkout as it was).
unexport PYTHONDONTWRITEBYTECODE
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint bench bench-load clean image

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip==25.3"
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/meshcert demo

# The selftest proves the suites can fail: every MUST requirement's defect is detected. It runs
# beside pytest (both wait on processes much of the time: the two cores stay busy); its output
# goes to .meshcert/selftest.log and is shown when it ends. pytest exits 5 when it collects
# nothing; that is not a failure of the code under test. pytest runs the tests that start
# processes first (tests/conftest.py) and its workers steal from each other's queues, so
# the run does not end with one worker on a long certification.
PYTEST_WORKERS ?= 2
SELFTEST_JOBS  ?= 3
SELFTEST_ARGS  ?= --profile all
test: $(STAMP)
	$(BIN)/ruff check .
	@mkdir -p .meshcert; \
	echo "selftest: started beside pytest (log: .meshcert/selftest.log)"; \
	$(BIN)/meshcert selftest $(SELFTEST_ARGS) --jobs $(SELFTEST_JOBS) >.meshcert/selftest.log 2>&1 & \
	selftest=$$!; started=$$(date +%s); trap 'kill $$selftest 2>/dev/null' INT TERM; \
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist worksteal $(PYTEST_ARGS); rc=$$?; \
	echo "pytest: done in $$(( $$(date +%s) - started )) s; waiting for the selftest"; \
	wait $$selftest; src=$$?; cat .meshcert/selftest.log; \
	echo "make test: $$(( $$(date +%s) - started )) s (pytest status $$rc, selftest status $$src)"; \
	{ [ $$rc -eq 5 ] || [ $$rc -eq 0 ]; } || exit $$rc; exit $$src

lint: $(STAMP)
	$(BIN)/ruff check .

# The simulators' container image, built offline from a wheelhouse (README, "Containers").
# Without a registry: docker/make-base-image.sh, then
# make image IMAGE_ARGS="--base-image meshcert-base:bookworm"
image: $(STAMP)
	$(BIN)/meshcert image build $(IMAGE_ARGS)

bench: $(STAMP)
	$(BIN)/python bench/population.py

# Needs wrk (apt-get install -y wrk) and Prism (npm install --prefix .meshcert/bench-tools
# @stoplight/prism-cli); never run in CI.
bench-load: $(STAMP)
	$(BIN)/python bench/simulator_throughput.py
	$(BIN)/python bench/loadgen.py
	$(BIN)/python bench/certify_time.py

clean:
	rm -rf $(VENV) reports/out .pytest_cache .hypothesis
