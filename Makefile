# Bidragsportalen: make install | test | bench | run | check-deploy   (DESIGN.md §5)
SHELL := /bin/bash
.DEFAULT_GOAL := test

UV := python3.13 -m uv
export UV_PYTHON_DOWNLOADS := never

PYTHON := .venv/bin/python
# The harness plugin must be loaded before pytest-django reads config/settings.py:
# it sets the test environment and starts SeaweedFS (tests/harness/plugin.py).
PYTEST := PYTHONPATH=$(CURDIR) .venv/bin/pytest -p tests.harness.plugin -p no:cacheprovider
PYTEST_ARGS ?=

# Production-like environment for `check --deploy`.
CHECK_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/bidrag

.PHONY: install system-packages node-packages lint test bench run check-deploy

install:
	python3.13 -m uv --version >/dev/null 2>&1 || python3.13 -m pip install uv
	$(UV) sync --frozen

# Debian packages the tests need (Chromium): apt-get as root, else a message naming them.
system-packages:
	scripts/system-packages.sh

# npm packages of the test OpenID Connect provider (panva's oidc-provider, run on Node by
# tests/harness/oidc.py), exactly as in its package-lock.json; again only when the lock
# file is newer than what was installed.
OIDC_PROVIDER_DIR := tests/harness/oidc
node-packages:
	@command -v npm >/dev/null 2>&1 || { echo "npm is missing: the tests run a real OpenID Connect provider on Node.js; install nodejs and npm (Debian: apt-get install nodejs npm)." >&2; exit 1; }
	@if [ ! -f $(OIDC_PROVIDER_DIR)/node_modules/.package-lock.json ] || \
	    [ $(OIDC_PROVIDER_DIR)/package-lock.json -nt $(OIDC_PROVIDER_DIR)/node_modules/.package-lock.json ]; then \
	    npm ci --prefix $(OIDC_PROVIDER_DIR) --no-audit --no-fund; fi

# Lint (ruff, configured in pyproject.toml) and types (mypy with django-stubs) on every
# services and selectors module; `make test` fails on any finding.
TYPED := arenden/services.py arenden/storage.py arenden/uploads.py arenden/formatting.py arenden/keyset.py bidrag/services bidrag/selectors.py \
	bidrag/submitted.py bidrag/applicant_list.py workflows/selectors.py workflows/timeline.py notifications/services.py \
	konton/oidc.py konton/services.py konton/staff.py konton/throttle.py konton/views.py konton/personnummer.py \
	konton/forms.py konton/admin.py konton/management/commands/otp_reset.py arenden/verification.py \
	arenden/checkpoints.py arenden/dbroles.py arenden/calendar.py workflows/scheduler.py arenden/reads.py \
	arenden/production.py workflows/production.py workflows/export_jobs.py
lint: install
	.venv/bin/ruff check .
	DJANGO_DEBUG=1 .venv/bin/mypy $(TYPED)

# The whole suite against real PostgreSQL ($$DATABASE_URL, default
# postgres://postgres@127.0.0.1:5432/bidrag) and a SeaweedFS the harness starts.
# Benchmarks are left out: `make bench`.
# --durations: the 25 slowest tests are named at the end of every run (CI's log says where
# the suite's time goes; aim: the whole run under 15 minutes).
# TEST_WORKERS pytest-xdist workers (processes) share the tests out file by file
# (--dist loadfile: a file's module and package fixtures, the browser, stay on one worker);
# each has its own test database, SeaweedFS, application role, Redis database and ports
# (tests/harness/plugin.py). The tests wait on browsers, subprocesses and SMTP much of the
# time, hence three on two cores (17 min against 32 min in one process, both on a shared
# machine under load). TEST_WORKERS=0 runs them in one process.
TEST_WORKERS ?= 3
test: install system-packages node-packages lint
	$(PYTEST) -n $(TEST_WORKERS) --dist loadfile --ignore=tests/bench --durations=25 $(PYTEST_ARGS)

bench: install
	$(PYTEST) -s tests/bench $(PYTEST_ARGS)

# Quick start: DEBUG, SQLite, local files, console e-mail, on http://127.0.0.1:8000/.
run: install
	scripts/run-local.sh

check-deploy: install
	env -u DJANGO_SECURE_SSL_REDIRECT -u DJANGO_SECURE_COOKIES -u DJANGO_HSTS_SECONDS \
	    -u DJANGO_FAST_PASSWORD_HASHER \
	    DJANGO_DEBUG=0 \
	    DJANGO_SECRET_KEY="$$($(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(64))')" \
	    DJANGO_ALLOWED_HOSTS=bidrag.example.se \
	    DATABASE_URL="$(CHECK_DATABASE_URL)" \
	    $(PYTHON) manage.py check --deploy --fail-level WARNING
