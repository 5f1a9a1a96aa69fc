# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint migrate messages bench worker beat clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

## make run: install, migrate, load demo data into an empty database, serve on :8000
run: $(STAMP)
	$(PY) manage.py generate_env
	$(MAKE) --no-print-directory migrate
	$(PY) manage.py seed_demo --if-empty
	@echo ""
	@echo "Demo logins (password: $$($(PY) -c 'import os; os.environ.setdefault("DJANGO_SETTINGS_MODULE","crm.settings"); import django; django.setup(); from django.conf import settings; print(settings.DEMO_PASSWORD)')):"
	@echo "  rep1 rep2 (team North, manager manager1)  rep3 (team South, manager manager2)"
	@echo "  gm  service1  dpo  auditor  admin"
	@echo "Open http://127.0.0.1:8000"
	$(PY) manage.py runserver 127.0.0.1:8000

## make test: the whole suite (PostgreSQL/Redis when DATABASE_URL/CELERY_BROKER_URL are set)
test: $(STAMP)
	$(PY) -m pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# The keys database first: business migrations may write into it (search digests).
migrate: $(STAMP)
	$(PY) manage.py migrate --noinput --database keys
	$(PY) manage.py migrate --noinput

## make messages: extract and compile the translations (needs GNU gettext)
messages: $(STAMP)
	$(PY) manage.py makemessages -l zh_Hans --no-obsolete --ignore '.venv/*' --ignore 'staticfiles/*'
	$(PY) manage.py compilemessages -l zh_Hans --ignore '.venv/*'

## make bench: build (or reuse) the bench data set on PostgreSQL, load the real server,
## print the table (bench/README.md). BENCH_N=2000 make bench for a quick run.
bench: $(STAMP)
	$(PY) -m bench

worker: $(STAMP)
	$(VENV)/bin/celery -A crm worker -l info

beat: $(STAMP)
	$(VENV)/bin/celery -A crm beat -l info

clean:
	rm -rf $(VENV) staticfiles .pytest_cache
