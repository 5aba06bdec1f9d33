# hotline — make run: the whole system on this machine; make test: the whole suite.
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed-stamp
CATALOGS := $(wildcard hotline/translations/*/LC_MESSAGES/messages.po)
COMPILED := $(CATALOGS:.po=.mo)
# Two processes: the machines have two cores.
PYTEST_ARGS ?= -n 2

.PHONY: run test lint translations extract-messages clean bench

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r requirements.txt -r requirements-dev.txt
	touch $(STAMP)

%.mo: %.po $(STAMP)
	$(VENV)/bin/pybabel compile --use-fuzzy -i $< -o $@

translations: $(COMPILED)

run: $(STAMP) translations
	$(VENV)/bin/python scripts/run.py

test: $(STAMP) translations
	$(VENV)/bin/python -m pytest $(PYTEST_ARGS)

# Lint, format check and types (pyproject.toml); .ci/run runs it before the tests.
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

extract-messages: $(STAMP)
	$(VENV)/bin/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o hotline/translations/messages.pot hotline templates
	$(VENV)/bin/pybabel update -i hotline/translations/messages.pot -d hotline/translations

# Small versions of every bench script (bench/README.md), so they keep working; times are not judged here.
bench: $(STAMP)
	$(VENV)/bin/python bench/generate.py --tickets 2000 --check --quiet
	$(VENV)/bin/python bench/intake.py --duration 3 --warmup 1 | tee /dev/stderr | grep -q "ratio app/reference"
	$(VENV)/bin/python bench/request_cost.py --rounds 1 --block 20
	$(VENV)/bin/python bench/sweep.py --sizes 1000
	$(VENV)/bin/python bench/photos.py --rounds 1
	test ! -f bench/dashboard.py || $(VENV)/bin/python bench/dashboard.py --tickets 2000
	$(VENV)/bin/python bench/memory.py --tickets 2000 --requests 500 --sweep 200 --quiet
	$(VENV)/bin/python bench/pages.py --tickets 2000 --rounds 5
	$(VENV)/bin/python bench/routing.py --tickets 120 --limit 40 --misses 0

clean:
	rm -rf $(VENV) instance
