# Selaras: `make run` starts the whole app with demo data; `make test` runs the tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
STAMP := $(VENV)/.installed

.PHONY: install run test test-e2e lint format migrate seed clean messages screenshots

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)

migrate: install
	$(BIN)/python manage.py migrate --noinput

seed: migrate
	$(BIN)/python manage.py seed_demo

run: seed
	@echo ""
	@echo "  Selaras is starting on http://127.0.0.1:$(PORT)/"
	@echo "  Log in as sales.manager, marketing.manager, rep1, rep2, marketer1 or admin"
	@echo "  with the password selaras-demo.  E-mails are written to var/mail/."
	@echo ""
	PORT=$(PORT) $(BIN)/honcho start --port $(PORT)

test: install
	$(BIN)/pytest $(PYTEST_ARGS)

test-e2e: install
	$(BIN)/pytest tests/e2e $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

messages: install
	$(BIN)/python manage.py makemessages -l id --ignore=.venv --ignore=staticfiles --ignore=tests
	$(BIN)/python manage.py compilemessages -l id --ignore=.venv

clean:
	rm -rf var staticfiles .pytest_cache

screenshots: install
	$(BIN)/python docs/make_screenshots.py
