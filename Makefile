# Accountable — the two commands a new machine needs: `make run` and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app app
PORT ?= 5000
PYTHON ?= python3

.PHONY: install translations extract-messages run test test-postgres bench initial-migration quotes-migration inbound-migration clean

install: $(VENV)/.installed

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

# Compiled catalogues are build output (.gitignore); the .po files are the source.
translations: install
	$(VENV)/bin/pybabel -q compile -d translations

# Collect the marked strings into translations/messages.pot and merge them into each catalogue
# (new strings arrive untranslated, never guessed from similar ones).
extract-messages: install
	$(VENV)/bin/pybabel -q extract -F babel.cfg -k _l -k lazy_gettext -k ngettext:1,2 \
		-o translations/messages.pot --ignore-dirs=".* ._ __pycache__ .venv bench tests node_modules instance" .
	$(VENV)/bin/pybabel -q update -i translations/messages.pot -d translations --no-fuzzy-matching

# Install, migrate, load demo data into an empty database, then serve with a job worker beside it.
run: install translations
	$(FLASK) db upgrade
	$(FLASK) demo load --if-empty
	@echo ""
	@echo "  Accountable runs on http://127.0.0.1:$(PORT)"
	@echo "  Log in as admin@example.com (or anna@example.com, an account manager)"
	@echo "  with the password: accountable-demo"
	@echo ""
	@trap 'kill 0' INT TERM EXIT; \
	$(FLASK) worker & \
	$(VENV)/bin/gunicorn --bind 127.0.0.1:$(PORT) --workers 2 --threads 4 --access-logfile - "app:create_app()"

test: install translations
	$(PY) -m pytest -p no:cacheprovider $(PYTEST_ARGS)

# The same suite on PostgreSQL (this machine's server; any URL works).
test-postgres: install translations
	TEST_DATABASE_URL=$${TEST_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/test} \
	$(PY) -m pytest -p no:cacheprovider $(PYTEST_ARGS)

bench: install translations
	$(PY) bench/run.py

# Regenerate migrations/0001_initial.py from the models (only while it has not been released).
initial-migration: install
	rm -rf /tmp/accountable-initial && mkdir -p /tmp/accountable-initial
	$(PY) -m playhouse.migrations sqlite:////tmp/accountable-initial/db.sqlite initial "models:MODELS" -d /tmp/accountable-initial > /dev/null
	mv /tmp/accountable-initial/0001_initial.py migrations/0001_initial.py
	sed -i '/^# TODO: .*must be added by hand$$/d; 1s/.*/"""The first schema: users, accounts, contacts, the timeline and tasks.\n\nPython-side defaults (timestamps) live on the application models; the tables need none.\n"""/' migrations/0001_initial.py

# Regenerate migrations/0002_quotes.py (quotes, catalogue, outgoing mail) from QUOTE_MODELS,
# against a database at 0001 (only while it has not been released).
quotes-migration: install
	rm -f migrations/0002_quotes.py /tmp/accountable-quotes.db
	mkdir -p /tmp/accountable-0001 && rm -f /tmp/accountable-0001/*.py && cp migrations/0001_initial.py /tmp/accountable-0001/
	$(PY) -m playhouse.migrations sqlite:////tmp/accountable-quotes.db up -d /tmp/accountable-0001 > /dev/null
	$(PY) -m playhouse.migrations sqlite:////tmp/accountable-quotes.db generate quotes "models:QUOTE_MODELS" -d /tmp/accountable-0001 > /dev/null
	mv /tmp/accountable-0001/0002_quotes.py migrations/0002_quotes.py
	sed -i '/^# TODO: .*must be added by hand$$/d; 1s/.*/"""Quotes, the catalogue, price agreements, margin policy and outgoing mail.\n\nPython-side defaults (timestamps) live on the application models; the tables need none.\n"""/' migrations/0002_quotes.py

# Regenerate migrations/0003_inbound.py (mailboxes, checkpoints) from INBOUND_MODELS,
# against a database at 0002 (only while it has not been released).
inbound-migration: install
	rm -rf /tmp/accountable-0002 && mkdir -p /tmp/accountable-0002
	cp migrations/0001_initial.py migrations/0002_quotes.py /tmp/accountable-0002/
	$(PY) -m playhouse.migrations sqlite:////tmp/accountable-0002/db.sqlite up -d /tmp/accountable-0002 > /dev/null
	$(PY) -m playhouse.migrations sqlite:////tmp/accountable-0002/db.sqlite generate inbound "models:INBOUND_MODELS" -d /tmp/accountable-0002 > /dev/null
	mv /tmp/accountable-0002/0003_inbound.py migrations/0003_inbound.py
	sed -i '/^# TODO: .*must be added by hand$$/d; 1s/.*/"""Inbound mail: mailboxes, folder checkpoints, where each message was seen, remembered senders.\n\nPython-side defaults (timestamps) live on the application models; the tables need none.\n"""/' migrations/0003_inbound.py

clean:
	rm -rf $(VENV) instance
