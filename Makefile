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
## Quiet unless a step fails (then its whole output is shown); the logins table comes last.
quietly = out=$$($(1) 2>&1) || { printf '%s\n' "$$out"; echo "make run: '$(1)' failed."; exit 1; }
run: $(STAMP)
	@echo "Preparing the keys, the database and the demo data..."
	@$(call quietly,$(PY) manage.py generate_env)
	@$(call quietly,$(PY) manage.py migrate --noinput --database keys)
	@$(call quietly,$(PY) manage.py migrate --noinput)
	@$(call quietly,$(PY) manage.py seed_demo --if-empty)
	@{ $(PY) manage.py demo_logins --wait-for 127.0.0.1:8000 & } && \
	  exec $(PY) manage.py runserver 127.0.0.1:8000

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
