# Two commands do everything on a fresh machine with Python 3.11 and Node: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
export FLASK_APP := wsgi

.PHONY: run test audit bench lint install assets migrate clean

# The pip and setuptools that come with Python are old enough to have published vulnerabilities: pin current ones.
$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --upgrade pip==26.3 setuptools==84.2.1

$(VENV)/.installed: requirements.txt requirements-dev.txt | $(BIN)/activate
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

instance/config.py:
	$(PYTHON) scripts/write_instance_config.py $@

install: $(VENV)/.installed node_modules/.installed

assets: node_modules/.installed

migrate: install instance/config.py
	$(BIN)/flask db upgrade

## Set up, migrate, load the demo partnership if empty, start the scheduler and serve on 127.0.0.1:$(PORT).
run: migrate
	$(BIN)/flask demo load
	@echo "Serving on http://127.0.0.1:$(PORT) (Ctrl+C stops the server and the scheduler)"
	@$(BIN)/flask scheduler & SCHED=$$!; \
	trap 'kill $$SCHED 2>/dev/null' EXIT INT TERM; \
	$(BIN)/gunicorn --workers 2 --bind 127.0.0.1:$(PORT) --access-logfile - wsgi:app

## Set up and run the whole test suite (also against PostgreSQL when TEST_DATABASE_URL is set).
test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## Audit the installed environment (.venv, transitive dependencies included) for known vulnerabilities with pip-audit:
## fails on any with a fix available; DEPENDENCY_AUDIT=required also fails when no advisory source is reachable.
audit: install
	$(BIN)/python scripts/audit_dependencies.py

## Benchmarks (figures printed and written to bench/results/).
bench: install
	$(BIN)/python -m bench.run $(BENCH_ARGS)

lint: install
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) node_modules
