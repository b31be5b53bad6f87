# Two commands do all the set-up: `make run` (site with demo data) and `make test`.
# Both create .venv and install the pinned requirements the first time, and the pinned
# front-end libraries (package-lock.json: ECharts, served from our own static files, no CDN)
# into node_modules with npm, and are safe to run again.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: run test test-all venv migrate demo worker beat bench load backup restore check lint typecheck format messages clean

$(STAMP): requirements.txt requirements-dev.txt package.json package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo "npm not found: the charts' ECharts comes from npm. Install Node.js and npm (Debian: apt-get install nodejs npm) and run make again." >&2; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	npm ci --no-audit --no-fund --omit=dev --ignore-scripts --loglevel=error
	touch $(STAMP)

# node_modules removed on its own (the stamp still there): install again.
ifeq ($(wildcard node_modules/echarts/dist/echarts.min.js),)
.PHONY: $(STAMP)
endif

venv: $(STAMP)

migrate: venv
	$(PY) manage.py migrate --noinput

demo: migrate
	# The demo data and today's reminders (there is no beat in the embedded default), the
	# reminders first so that the logins come last, after any job output.
	$(PY) manage.py seed_demo --reminders

run: demo
	$(PY) manage.py runserver 127.0.0.1:8000

# The suite on pytest-xdist workers (PYTEST_WORKERS, default one per core; 0: one process),
# the 25 slowest tests printed. `make test` leaves out the system tests (browser,
# schemathesis, faults, backup drill, real workers: marker `system`); `make test-all` runs
# them too (those that need PostgreSQL or Redis skip, with the reason, without them).
# PYTEST_ARGS adds options or picks tests: make test PYTEST_ARGS="tests/api -x";
# make test PYTEST_ARGS='-m browser' (a later -m wins).
PYTEST_WORKERS ?= auto
PYTEST_RUN = $(PY) -m pytest -n $(PYTEST_WORKERS) --dist loadgroup --durations=25

test: venv
	$(PYTEST_RUN) -m "not system" $(PYTEST_ARGS)

test-all: venv
	$(PYTEST_RUN) $(PYTEST_ARGS)

check: venv
	$(PY) manage.py makemigrations --check --dry-run
	$(PY) manage.py check

# ruff (lint rules and formatting, pyproject [tool.ruff]) and import-linter (the layers of
# docs/architecture.md, pyproject [tool.importlinter]); fails on any finding.
lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

# mypy with django-stubs over the services, the jobs, core and the parser (pyproject [tool.mypy]).
typecheck: venv
	$(VENV)/bin/mypy

# Rewrite the tree in the house format and apply ruff's safe fixes.
format: venv
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

worker: venv
	$(VENV)/bin/celery -A config worker --loglevel=INFO

beat: venv
	$(VENV)/bin/celery -A config beat --loglevel=INFO

# The province-scale benchmarks at one size (TASKS=5000, 50000 or 500000; default 50000): each
# page and job's median, p95, query count and its ratio to a reference measured in the same
# run, then one table (tests/bench/run.py). PostgreSQL on 127.0.0.1:5432, a database per size,
# generated once and kept. BENCH_ARGS="--only reminders" picks benches; "--all" adds the older ones.
TASKS ?= 50000
bench: venv
	$(PY) tests/bench/run.py --tasks $(TASKS) $(BENCH_ARGS)

# 50 staff and 10 leaders against gunicorn for 2 minutes, then the lost-update check
# (tests/bench/load.py; PostgreSQL on DATABASE_URL, default a database of its own; with
# REDIS_URL a real Celery worker). LOAD_ARGS="--duration 60" and so on.
load: venv
	$(PY) tests/bench/load.py $(LOAD_ARGS)

# pg_dump of DATABASE_URL and a tar of MEDIA_ROOT into var/backups/<UTC time>/ (scripts/backup.py).
backup: venv
	$(PY) scripts/backup.py

# make restore BACKUP=var/backups/<time> TARGET_DATABASE_URL=postgres://.../<new database> [TARGET_MEDIA_ROOT=dir]
# Checks the manifest, then restores into a new database only (scripts/restore.py). The
# variables reach the script through the environment, so a password is not echoed.
restore: venv
	BACKUP="$(BACKUP)" TARGET_DATABASE_URL="$$TARGET_DATABASE_URL" TARGET_MEDIA_ROOT="$(TARGET_MEDIA_ROOT)" \
		$(PY) scripts/restore.py

# Needs GNU gettext (apt-get install gettext); the compiled .mo is committed, so running the
# site does not.
# Refresh the English catalogue from the code and templates (drop what the code no longer
# asks for), then compile it. tests/test_translations.py fails until every entry is translated.
messages: venv
	$(PY) manage.py makemessages -l en --no-wrap --no-location --ignore ".venv/*" --ignore "tests/*" --ignore "var/*" --ignore "node_modules/*"
	msgattrib --no-obsolete --no-wrap -o locale/en/LC_MESSAGES/django.po locale/en/LC_MESSAGES/django.po
	$(PY) manage.py compilemessages -l en --ignore ".venv/*" --ignore "node_modules/*"

clean:
	rm -rf $(VENV) var/test-*.sqlite3
