# Two commands matter: `make run` (demo on http://127.0.0.1:8000) and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
# The settings build the links of e-mails and the printed logins from these (SITE_URL).
export HOST PORT

# Translations are compiled by the build (polib, so no system gettext is needed to run).
MO_FILES := $(patsubst %.po,%.mo,$(wildcard locale/*/LC_MESSAGES/*.po))

.PHONY: run test lint loadtest bench bigimport screenshots messages mutate clean

$(STAMP): requirements.txt requirements-dev.txt
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is needed ($(PYTHON) not found)."; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

locale/%.mo: locale/%.po $(STAMP)
	$(BIN)/python scripts/compile_messages.py $< $@

run: $(STAMP) $(MO_FILES)
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	@echo "Serving on http://$(HOST):$(PORT)/ (Ctrl+C stops)"
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

test: $(STAMP) $(MO_FILES)
	$(BIN)/python manage.py makemigrations --check --dry-run >/dev/null || { echo "Model changes without a migration: run manage.py makemigrations."; exit 1; }
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-logo
	$(BIN)/mypy
	$(BIN)/pytest --screenshot only-on-failure --output test-results $(PYTEST_ARGS)

# Not in CI: clerks, approvers and an importer against two gunicorn processes, two task
# workers and the escalation, import and outbox loops for LOADTEST_SECONDS, while the
# database drops its connections, the mail server refuses and a worker is killed; then the
# invariants (see SECURITY.md, "The load test").
# Needs DATABASE_URL pointing at a PostgreSQL database it may fill with load-test data.
loadtest: $(STAMP) $(MO_FILES)
	$(BIN)/python scripts/loadtest.py --seconds $${LOADTEST_SECONDS:-60}

# Not in CI: ratios against django-import-export's defaults and raw COPY (see BENCHMARKS.md).
# BENCH_ARGS="--million" times a million rows end to end instead (section 9: the command
# and the Import page's background path beside COPY; "--million-rows 50000" for a trial).
bench: $(STAMP)
	$(BIN)/python scripts/bench.py $(BENCH_ARGS)

# Not in CI: a 1M-row workbook uploaded, checked and imported in the background under
# docker-compose's gunicorn command (see BENCHMARKS.md). Needs DATABASE_URL pointing at a
# PostgreSQL database it may fill; BIGIMPORT_ARGS="--rows 200000" for a smaller run.
bigimport: $(STAMP) $(MO_FILES)
	$(BIN)/python scripts/bigimport.py $(BIGIMPORT_ARGS)

# Re-extract the strings after changing texts; then translate what is new in the .po.
messages: $(STAMP)
	$(BIN)/python manage.py makemessages -l nl --no-obsolete --ignore='.venv/*' --ignore='tests/*' --ignore='scripts/*' --ignore='test-results/*' --ignore='mutants/*'

# The main pages in English and Dutch, into docs/screenshots/ (needs Debian's chromium).
screenshots: $(STAMP) $(MO_FILES)
	$(BIN)/python scripts/screenshots.py

# Not in CI: mutation testing of the decision core (workflow/core/) against its tests in
# tests/core/, which need no database; prints the score and fails below MUTATION_MIN.
# Starts afresh each time (mutmut keeps results in mutants/). See TESTING.md.
MUTATION_MIN ?= 90
mutate: $(STAMP)
	rm -rf mutants
	$(BIN)/mutmut run
	$(BIN)/mutmut results
	$(BIN)/mutmut export-cicd-stats >/dev/null
	$(BIN)/python scripts/mutation_score.py --min $(MUTATION_MIN)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles .pytest_cache .ruff_cache .mypy_cache .import_linter_cache .hypothesis mutants $(MO_FILES)
