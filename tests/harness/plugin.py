"""pytest plugin: test environment, PostgreSQL check and SeaweedFS, before Django starts.

Load it with ``-p tests.harness.plugin`` (the Makefile does, with the project root on
PYTHONPATH). It cannot live in ``tests/conftest.py``: pytest-django imports
``config.settings`` in its ``pytest_load_initial_conftests`` hook, before any conftest
is imported, and settings.py reads the environment at import time. This plugin wraps
that hook, so everything here happens before settings are read.

Environment set for the test process (and inherited by the subprocesses it starts):

* ``DJANGO_DEBUG=0``, ``DJANGO_SECRET_KEY`` (a test value),
  ``DJANGO_ALLOWED_HOSTS=testserver,127.0.0.1,localhost``,
  ``DJANGO_SECURE_SSL_REDIRECT=0`` (the test client speaks plain http),
  ``DJANGO_FAST_PASSWORD_HASHER=1``; secure cookies and HSTS stay at their defaults.
* ``DATABASE_URL``, only if unset: ``postgres://postgres@127.0.0.1:5432/bidrag``;
  pytest-django creates and drops ``test_bidrag_r<pid>``
  (see ``django_db_modify_db_settings`` in ``tests/harness/fixtures.py``).
* ``AWS_STORAGE_BUCKET_NAME``, ``AWS_S3_ENDPOINT_URL``, ``AWS_ACCESS_KEY_ID``,
  ``AWS_SECRET_ACCESS_KEY``, ``AWS_S3_REGION_NAME``: the SeaweedFS started here.

With pytest-xdist (``make test`` runs ``-n 3``) every worker is a process of its own that
loads this plugin: its own SeaweedFS, test database (``test_bidrag_gw<n>_r<pid>``),
application role, Redis database and free ports, all keyed by its PID. The controller
that only hands out tests starts no SeaweedFS.
"""

from __future__ import annotations

import atexit
import os
from urllib.parse import unquote, urlsplit

import pytest

from .seaweedfs import SeaweedFS, SeaweedFSError

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/bidrag"
TEST_SECRET_KEY = "test-only-secret-key-for-the-pytest-suite-0123456789-abcdefghijklmnop"

TEST_ENVIRON = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": TEST_SECRET_KEY,
    "DJANGO_ALLOWED_HOSTS": "testserver,127.0.0.1,localhost",
    "DJANGO_SECURE_SSL_REDIRECT": "0",
    "DJANGO_FAST_PASSWORD_HASHER": "1",
}

_state_key = pytest.StashKey[dict]()


def check_database(url: str, timeout: int = 3) -> str | None:
    """None if the PostgreSQL server behind ``url`` answers, else why not.

    Connects to the ``postgres`` maintenance database, not the one in the URL: the test
    database is created by pytest-django, and the named one need not exist.
    """
    parts = urlsplit(url)
    if parts.scheme not in {"postgres", "postgresql", "pgsql", "postgis"}:
        return None  # not PostgreSQL; tests/test_harness.py will say so
    import psycopg

    try:
        psycopg.connect(
            host=parts.hostname or None,
            port=parts.port or 5432,
            user=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            dbname="postgres",
            connect_timeout=timeout,
        ).close()
    except psycopg.Error as exc:
        return str(exc).strip()
    return None


@pytest.hookimpl(wrapper=True)
def pytest_load_initial_conftests(early_config, parser, args):
    state: dict = {"seaweedfs": None, "database_error": None}
    early_config.stash[_state_key] = state
    os.environ.update(TEST_ENVIRON)
    os.environ.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)

    options = parser.parse_known_args(args)
    if not (options.help or options.version or _xdist_controller(options)):
        state["database_error"] = check_database(os.environ["DATABASE_URL"])
        if state["database_error"] is None:
            seaweedfs = SeaweedFS()
            early_config.add_cleanup(seaweedfs.stop)
            # Also when pytest gives up before its own cleanup runs (e.g. a conftest
            # fails to import); stop() is idempotent. weed also gets SIGTERM if this
            # process dies outright (PR_SET_PDEATHSIG).
            atexit.register(seaweedfs.stop)
            try:
                seaweedfs.start()
            except SeaweedFSError as exc:
                raise pytest.UsageError(str(exc)) from exc
            state["seaweedfs"] = seaweedfs
            os.environ.update(seaweedfs.django_environ())
    return (yield)


def _xdist_controller(options) -> bool:
    """Whether this process only hands tests out to pytest-xdist workers (``-n N``): each
    worker loads this plugin too and starts a SeaweedFS of its own, so the controller, which
    runs no test, needs none. ``-n 0`` and ``--pdb`` (which xdist turns into ``-n 0``) run
    the tests here."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        return False
    numprocesses = getattr(options, "numprocesses", None)
    return bool(numprocesses) and not getattr(options, "usepdb", False)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    state = config.stash.get(_state_key, None)
    if state and state["database_error"]:
        pytest.exit(
            f"PostgreSQL does not answer at DATABASE_URL={_without_password(os.environ['DATABASE_URL'])} "
            f"(tried its `postgres` database, 3 s timeout): {state['database_error']}\n"
            "Start PostgreSQL or point DATABASE_URL at a server that runs.",
            returncode=pytest.ExitCode.USAGE_ERROR,
        )


def pytest_report_header(config):
    state = config.stash.get(_state_key, None)
    seaweedfs = state and state["seaweedfs"]
    if not seaweedfs:
        return None
    return [
        f"database: {_without_password(os.environ['DATABASE_URL'])}",
        f"seaweedfs: {seaweedfs.endpoint_url} bucket={seaweedfs.bucket} "
        f"pid={seaweedfs.process.pid if seaweedfs.process else '-'} "
        f"(S3 answered after {seaweedfs.startup_seconds:.2f} s; dir {seaweedfs.directory})",
    ]


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    if not parts.password:
        return url
    return parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@", 1)).geturl()


def harness_seaweedfs(config) -> SeaweedFS | None:
    """The running SeaweedFS of this session (for tests of the harness itself)."""
    state = config.stash.get(_state_key, None)
    return state and state["seaweedfs"]
