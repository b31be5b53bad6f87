# Two commands do all the set-up: `make run` (site with demo data) and `make test`.
# Both create .venv and install the pinned requirements the first time, and are safe to
# run again.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: run test venv migrate demo worker beat bench check messages clean

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

venv: $(STAMP)

migrate: venv
	$(PY) manage.py migrate --noinput

demo: migrate
	$(PY) manage.py seed_demo

run: demo
	$(PY) manage.py runserver 127.0.0.1:8000

test: venv
	$(PY) -m pytest $(PYTEST_ARGS)

check: venv
	$(PY) manage.py makemigrations --check --dry-run
	$(PY) manage.py check

worker: venv
	$(VENV)/bin/celery -A config worker --loglevel=INFO

beat: venv
	$(VENV)/bin/celery -A config beat --loglevel=INFO

bench: venv
	$(PY) tests/bench/score_seeds.py
	$(PY) tests/bench/bench_import.py
	$(PY) tests/bench/bench_adversarial.py
	$(PY) tests/bench/bench_staff_pages.py

# Needs GNU gettext (apt-get install gettext); the compiled .mo is committed, so running the
# site does not.
messages: venv
	$(PY) manage.py makemessages -l en --no-wrap --no-location --ignore ".venv/*" --ignore "tests/*" --ignore "var/*"
	$(PY) manage.py compilemessages -l en --ignore ".venv/*"

clean:
	rm -rf $(VENV) var/test-*.sqlite3
