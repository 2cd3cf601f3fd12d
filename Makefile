# Two entry points for a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PACKAGES := edi adjudication remittance store workers fixtures review

.PHONY: demo test lint typecheck unit bench fault fuzz conformance coverage clean services system-packages

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/claims demo --out out/demo

lint: $(STAMP)
	$(BIN)/ruff check $(PACKAGES) tests

typecheck: $(STAMP)
	$(BIN)/mypy

# The store tests run on SQLite and on the machine's PostgreSQL (127.0.0.1:5432,
# database test): start the server when it is installed but stopped.
services:
	@pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null || \
	  { command -v pg_ctlcluster >/dev/null && \
	    pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql | head -1) main start && \
	    sleep 2; } || echo "PostgreSQL is not available: its tests skip (and fail under CI)"

# The whole suite (store, crash and concurrency tests on both engines), then the
# pipeline suites again with every claims command on a PostgreSQL schema.
PIPELINE_SUITES := tests/test_pipeline.py tests/test_adjudication_pipeline.py \
	tests/test_engine_faults.py tests/test_no_phi_in_problems.py

# The SFTP tests drive the machine's OpenSSH sshd (Debian's openssh-server package);
# the fault test restarts a redis-server of its own (Debian's redis-server package);
# the browser tests drive Debian's headless Chromium through its chromedriver.
system-packages:
	@test -x /usr/sbin/sshd -a -x /usr/bin/redis-server -a -x /usr/bin/chromium \
	  -a -x /usr/bin/chromedriver || { command -v apt-get >/dev/null && \
	  [ "$$(id -u)" = 0 ] && apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	  apt-get install -y -qq openssh-server redis-server chromium chromium-driver \
	  >/dev/null; } || \
	  echo "openssh-server, redis-server or chromium is missing: their tests skip (and fail under CI)"

# Two pytest processes (pytest-xdist) on this 2-core machine; each test file's own
# resources (PostgreSQL schemas, Redis databases, ports, mailboxes) never overlap.
# The 15 slowest tests are listed at the end (make test has a 15-minute budget).
XDIST := -n 2 --dist worksteal --durations=15

unit: $(STAMP) services system-packages
	$(BIN)/pytest $(XDIST)
	EDI_TEST_DATABASE=postgresql $(BIN)/pytest $(XDIST) $(PIPELINE_SUITES)

test: lint typecheck unit

# The long fault runs: a worker killed and Redis restarted mid-file 5 times, and
# claims process killed at random points 20 times per engine (make test runs them 1
# and 6 times; EDI_FAULT_REPEATS=N and EDI_CRASH_TRIALS=N for more).
fault: $(STAMP) services system-packages
	EDI_FAULT_REPEATS=$${EDI_FAULT_REPEATS:-5} EDI_CRASH_TRIALS=$${EDI_CRASH_TRIALS:-20} \
	  $(BIN)/pytest $(XDIST) tests/test_fault.py tests/test_crash.py

# Seeded mutations through the front end with every oracle (make test runs 2,000),
# in JOBS processes (one per core here).
N ?= 100000
SEED ?= 1
JOBS ?= 2
fuzz: $(STAMP)
	$(BIN)/python -m workers.fuzz $(N) $(SEED) 0 --jobs $(JOBS)

# The compiled implementation guide against pyx12's path on 10,000 seeded mutants
# (make test runs 2,000).
conformance: $(STAMP)
	EDI_CONFORMANCE_CASES=10000 $(BIN)/pytest $(XDIST) tests/test_compiled_validator.py

# Branch coverage of the pure core (edi, adjudication, remittance) over the whole
# suite, with the lines and branches no test takes; not part of make test (coverage
# slows the suite about a third).
coverage: $(STAMP) services system-packages
	$(BIN)/pytest $(XDIST) --cov=edi --cov=adjudication --cov=remittance --cov-branch \
	  --cov-report=term-missing:skip-covered

bench: $(STAMP) services
	$(BIN)/python -m workers.bench_validator
	$(BIN)/python -m workers.bench
	$(BIN)/python -m workers.bench_store
	$(BIN)/python -m workers.bench_review
	$(BIN)/python -m workers.bench_service
	$(BIN)/python -m workers.bench_shapes

clean:
	rm -rf $(VENV) out bench-data *.egg-info
