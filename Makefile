# The two contract commands: `make demo` and `make test` (see README.md).
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := $(CURDIR)/.venv
PY := $(VENV)/bin/python
VAR := $(CURDIR)/var

# Airflow runs from inside the repo, on SQLite. modelguard and the example models (include/) are
# editable installs in the venv (no PYTHONPATH). The plugin comes from modelguard's entry point; the
# plugins folder is an empty one outside the sources, so no plugin file is loaded a second time.
export AIRFLOW__CORE__DAGS_FOLDER := $(CURDIR)/dags
export AIRFLOW__CORE__PLUGINS_FOLDER := $(CURDIR)/.airflow/plugins
export AIRFLOW__CORE__LOAD_EXAMPLES := False
export AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION := True

DEMO_HOME := $(CURDIR)/.airflow/demo
TEST_HOME := $(CURDIR)/.airflow/test

.PHONY: demo test test-fast stack lint bench bench-venv bench-lock bench-drift bench-detection bench-read bench-run install clean

$(VENV)/.installed: requirements.txt requirements-dev.txt requirements.lock pyproject.toml include/pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.txt -e . -e ./include -c requirements.lock
	@touch $@

install: $(VENV)/.installed

$(DEMO_HOME)/.migrated: $(VENV)/.installed
	@mkdir -p $(DEMO_HOME)
	AIRFLOW_HOME=$(DEMO_HOME) $(VENV)/bin/airflow db migrate > $(DEMO_HOME)/migrate.log
	@touch $@

demo: $(DEMO_HOME)/.migrated
	AIRFLOW_HOME=$(DEMO_HOME) MODELGUARD_CONFIG=$(CURDIR)/config \
	AIRFLOW_CONN_MODELGUARD_SOURCE='{"conn_type": "sqlite", "host": "$(VAR)/demo/email_sends.db"}' \
	AIRFLOW_CONN_MODELGUARD_REGISTRY='{"conn_type": "sqlite", "host": "$(VAR)/demo/modelguard.db"}' \
	PATH=$(VENV)/bin:$$PATH $(PY) scripts/demo.py --var $(VAR)/demo

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# The whole suite. The stack tests (tests/stack: the real scheduler, dag-processor, triggerer and
# api-server on PostgreSQL) and the PostgreSQL tests need MODELGUARD_TEST_PG_DSN: without it they
# are skipped, and with CI set they fail instead (.ci/run starts PostgreSQL and sets it).
test: lint
	AIRFLOW_HOME=$(TEST_HOME) PATH=$(VENV)/bin:$$PATH $(PY) -m pytest

# Everything but the stack tests and the fresh-venv wheel test (tests/packaging/test_wheel.py,
# marker packaging: about a minute of its own; `pytest -m packaging` runs it alone).
test-fast: lint
	AIRFLOW_HOME=$(TEST_HOME) PATH=$(VENV)/bin:$$PATH $(PY) -m pytest -m "not stack and not packaging" --ignore=tests/stack

# The real Airflow stack in the foreground, on the PostgreSQL of PG_ADMIN_DSN (see README).
stack: $(VENV)/.installed
	$(PY) scripts/airflow_stack.py up --pg-admin-dsn "$(PG_ADMIN_DSN)" \
		--source-url "$(SOURCE_URL)" --registry-url "$(REGISTRY_URL)"

# NannyML and Evidently need pandas < 3: their own venv, pinned by bench/constraints-bench.txt
# (the project's .venv is untouched). Usage telemetry off for the install and every run.
BENCH_VENV := $(CURDIR)/.venv-bench
BENCH_ENV := DO_NOT_TRACK=1 NML_DISABLE_USAGE_LOGGING=1 EVIDENTLY_DISABLE_TELEMETRY=1

$(BENCH_VENV)/.installed: bench/requirements-bench.txt bench/constraints-bench.txt
	@test -x $(BENCH_VENV)/bin/python || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_ENV) $(BENCH_VENV)/bin/python -m pip install -q --upgrade pip
	$(BENCH_ENV) $(BENCH_VENV)/bin/python -m pip install -q -r bench/requirements-bench.txt -c bench/constraints-bench.txt
	@touch $@

bench-venv: $(BENCH_VENV)/.installed

# Re-resolve bench/requirements-bench.txt in a scratch venv and write the constraints file.
bench-lock:
	rm -rf $(CURDIR)/.venv-bench-lock && $(PYTHON) -m venv $(CURDIR)/.venv-bench-lock
	$(CURDIR)/.venv-bench-lock/bin/python -m pip install -q -r bench/requirements-bench.txt
	$(CURDIR)/.venv-bench-lock/bin/python -m pip freeze --exclude-editable > bench/constraints-bench.txt
	rm -rf $(CURDIR)/.venv-bench-lock

# One table: modelguard, a scipy baseline, NannyML and Evidently at 100k and 1M rows, the
# PostgreSQL read and the profile against their floors, the fast-path equality checks and the
# 100k..10M scaling curve (bench/results/bench.json and bench.png; about 40 min on 2 cores).
bench: $(VENV)/.installed $(BENCH_VENV)/.installed
	$(BENCH_ENV) $(PY) bench/bench_compare.py --bench-python $(BENCH_VENV)/bin/python

# The quick drift-speed check of before (1M rows, modelguard against the floor; ~1 min).
bench-drift: $(VENV)/.installed
	MODELGUARD_CONFIG=$(CURDIR)/config/main_config.yaml $(PY) bench/bench_drift.py --baseline

# false-alarm and detection rates of the drift verdict (~30 min on 2 cores; not in `bench`)
bench-detection: $(VENV)/.installed
	$(PY) bench/bench_detection.py

# reading a 1M-row window, PostgreSQL (MODELGUARD_BENCH_PG_DSN, else the test DSN) and SQLite:
# read_window against the COPY -> read_csv floor, pandas.read_sql and the row-tuple build
# (~5 min on 2 cores); writes bench/results/read.json
bench-read: $(VENV)/.installed
	$(PY) bench/bench_read.py

# a monitoring run's task time under the real stack, per task and phase, and a 90-day daily
# backfill (~15 min; needs PG_ADMIN_DSN or MODELGUARD_TEST_PG_DSN; LABEL names the measurement)
bench-run: $(VENV)/.installed
	$(PY) bench/bench_run_overhead.py --label "$(or $(LABEL),after)" \
		$(if $(PG_ADMIN_DSN),--pg-admin-dsn "$(PG_ADMIN_DSN)")

clean:
	rm -rf .airflow var
