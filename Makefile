# The project's vocabulary: run, test, bench, lint, worker. `make run` and `make test` are all a new
# machine needs: they install uv if absent, the locked dependencies (spaCy's model included), and
# start the embedded PostgreSQL when DATABASE_URL is unset.
SHELL := /bin/bash
.DEFAULT_GOAL := run

UV ?= $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)
PORT ?= 8000
MANAGE := $(UV) run --frozen python manage.py
export UV_PYTHON_DOWNLOADS := never

.PHONY: install run worker test browser bench lint format deploy-check doctor

$(UV):
	python3 -m pip install --user --quiet uv || python3 -m pip install --user --quiet --break-system-packages uv

# With their bytecode: where PYTHONDONTWRITEBYTECODE=1 is set, Python would otherwise compile Django,
# spaCy and the rest again at every start (docs/benchmarks.md, "Start-up"). Only here, not in
# pyproject.toml: told to compile there, every `uv run` compiles the whole environment again (uv 0.13).
# The Makefile is a prerequisite so that a change of these flags reaches an existing .venv.
.venv/.synced: pyproject.toml uv.lock Makefile | $(UV)
	$(UV) sync --frozen --compile-bytecode
	touch $@

# The project's own modules too (only those changed since are compiled again).
install: .venv/.synced
	@.venv/bin/python -m compileall -q annotator articles

# Migrate, demo users, seeds and their pre-annotation, then the web server and one worker until Ctrl-C.
run: install
	DEBUG=1 $(MANAGE) setup
	@echo "Serving on http://127.0.0.1:$(PORT)/ (Ctrl-C stops the server and the worker)"
	DEBUG=1 $(MANAGE) serve --port $(PORT)

worker: install
	$(MANAGE) db_worker

# Debian's Chromium drives the browser tests; Playwright never downloads a browser of its own.
browser:
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get update -qq && apt-get install -y -qq chromium; } \
	  || { echo "The browser tests need Debian's chromium: sudo apt-get install -y chromium" >&2; exit 1; }

test: install browser
	$(UV) run --frozen pytest --ignore=tests/benchmarks

bench: install
	$(UV) run --frozen pytest tests/benchmarks -p no:cacheprovider -s

# mypy checks the packages pyproject.toml lists; its Django plugin imports the settings, hence DEBUG=1.
lint: install
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .
	DEBUG=1 $(UV) run --frozen mypy

format: install
	$(UV) run --frozen ruff check --fix .
	$(UV) run --frozen ruff format .

# Django's deployment checks against the production settings (DEBUG off, a throwaway strong key).
deploy-check: install
	SECRET_KEY="$$(python3 -c 'import secrets; print(secrets.token_urlsafe(50))')" DEBUG=0 \
	  ALLOWED_HOSTS=annotator.example $(MANAGE) check --deploy --fail-level WARNING

# Which matrix kernels spaCy uses here, and their speed (see docs/preannotation.md, "Speed of the model").
doctor: install
	DEBUG=$${DEBUG:-1} $(MANAGE) doctor
