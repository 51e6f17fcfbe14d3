"""The suite runs as the application's database role (issue 9).

Migrations run as the owner (pytest-django creates the test database as `postgres`); then
a role made for this run gets exactly what production's application role gets
(`manage.py db_app_grants ROLE --apply`, arenden.dbroles), and every test takes it on
before its own fixtures run: its data is made, read and changed by a role that owns no
table, has no TRUNCATE and cannot disable a trigger, as the web and worker processes do.

* A test in a transaction (the `db` fixture, `@pytest.mark.django_db` without
  `transaction=True`): SET LOCAL ROLE; the rollback at its end drops the role again with
  everything else.
* A test with `transaction=True`, `transactional_db` or `live_server` (browsers, workers,
  two schedulers at once): SET ROLE on the test's open connections, and PGOPTIONS
  `-c role=…` for every connection opened while it runs, in this process (the live
  server's request threads) and in the processes it starts (db_worker, rqworker,
  runserver: tests/harness/worker.py passes the environment on). At its end the role is
  reset before pytest-django empties the database with TRUNCATE, which only the owner may.

Left as the owner: tests marked `@pytest.mark.owner_role` (they change the schema, make
roles, or tamper with the journal the way only an owner can, to show that it is noticed)
and the benchmarks. Inside a test, `as_owner()` steps aside for a few statements.

`BIDRAG_TEST_DB_ROLE=owner` runs everything as the owner (to tell a grant problem from a bug).
"""

from __future__ import annotations

import contextlib
import os

import pytest

ROLE = f"bidrag_app_test_{os.getpid()}"


def wanted() -> bool:
    return os.environ.get("BIDRAG_TEST_DB_ROLE", "application") != "owner"


IN_TRANSACTION, TRANSACTIONAL = "transaction", "transactional"


def mode(item) -> str | None:
    """How `item` runs as the application role: IN_TRANSACTION (SET LOCAL ROLE),
    TRANSACTIONAL (session role and PGOPTIONS), or None (as the owner: marked, a
    benchmark, or no database)."""
    if "bench" in item.path.parts or item.get_closest_marker("owner_role"):
        return None
    names = set(getattr(item, "fixturenames", ()))
    if {"transactional_db", "live_server", "django_db_reset_sequences"} & names:
        return TRANSACTIONAL
    marker = item.get_closest_marker("django_db")
    if marker is not None:
        return TRANSACTIONAL if marker.kwargs.get("transaction") or marker.kwargs.get("reset_sequences") else IN_TRANSACTION
    return IN_TRANSACTION if "db" in names else None


def applies_to(item) -> bool:
    return mode(item) is not None


def _drop_stale(cursor) -> None:
    """Roles of runs whose process is gone (killed before their cleanup); a role still
    holding grants in a database that was not dropped stays, and is tried again next time."""
    from django.db import DatabaseError

    cursor.execute("SELECT rolname FROM pg_roles WHERE rolname LIKE 'bidrag\\_app\\_test\\_%%'")
    for (name,) in cursor.fetchall():
        pid = name.rsplit("_", 1)[-1]
        if pid.isdigit() and int(pid) != os.getpid() and not os.path.exists(f"/proc/{pid}"):
            with contextlib.suppress(DatabaseError):
                cursor.execute(f'DROP ROLE "{name}"')


def _own_connection():
    """A connection of its own, in autocommit: the role is made and dropped outside every
    test's transaction (the first test to ask for it is inside one, which rolls back)."""
    from django.db import connections

    own = connections.create_connection("default")
    own.ensure_connection()
    return own


def create() -> None:
    from arenden.dbroles import application_grants

    own = _own_connection()
    try:
        with own.cursor() as cursor:
            _drop_stale(cursor)
            cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [ROLE])
            if cursor.fetchone() is None:
                cursor.execute(f'CREATE ROLE "{ROLE}" NOLOGIN')
            for statement in application_grants(ROLE):  # what `manage.py db_app_grants ROLE --apply` runs
                cursor.execute(statement)
    finally:
        own.close()


def drop() -> None:
    own = _own_connection()
    try:
        with own.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [ROLE])
            if cursor.fetchone() is not None:
                cursor.execute(f'DROP OWNED BY "{ROLE}"')
                cursor.execute(f'DROP ROLE "{ROLE}"')
    finally:
        own.close()


def take_on(connection) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f'SET LOCAL ROLE "{ROLE}"')


def _open_connections():
    from django.db import connections

    return [c for c in connections.all(initialized_only=True) if c.connection is not None]


def take_on_for_session() -> None:
    """The role for every connection of a transactional test: the open ones now, the ones
    opened later (here or in a child process) through PGOPTIONS."""
    os.environ["PGOPTIONS"] = f"{_OTHER_PGOPTIONS} -c role={ROLE}".strip()
    for connection in _open_connections():
        with connection.cursor() as cursor:
            cursor.execute(f'SET ROLE "{ROLE}"')


def give_up_for_session() -> None:
    """Back to the owner, for pytest-django's TRUNCATE after a transactional test. The
    connections are closed, not reset: one opened under PGOPTIONS has the role as its
    default, which RESET ROLE would bring back."""
    if _OTHER_PGOPTIONS:
        os.environ["PGOPTIONS"] = _OTHER_PGOPTIONS
    else:
        os.environ.pop("PGOPTIONS", None)
    for connection in _open_connections():
        if connection.in_atomic_block:  # a test that left a transaction open: its end is pytest-django's
            with connection.cursor() as cursor:
                cursor.execute("SET ROLE NONE")
            continue
        connection.close()


_OTHER_PGOPTIONS = os.environ.get("PGOPTIONS", "")


@contextlib.contextmanager
def as_owner():
    """A few statements as the owner inside a test that runs as the application role."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        current = cursor.fetchone()[0]
        cursor.execute("SET ROLE NONE")  # the session's own user (RESET would be the connection's default)
    try:
        yield
    finally:
        if current == ROLE:
            local = "LOCAL " if connection.in_atomic_block else ""
            with connection.cursor() as cursor:
                cursor.execute(f'SET {local}ROLE "{ROLE}"')


@pytest.fixture(scope="session")
def application_role(django_db_setup, django_db_blocker):
    """The run's application role, granted on the migrated test database."""
    with django_db_blocker.unblock():
        create()
    yield ROLE
    with django_db_blocker.unblock():
        drop()


@pytest.fixture(autouse=True)
def _as_application_role(request):
    how = mode(request.node) if wanted() else None
    if how is None:
        yield
        return
    request.getfixturevalue("application_role")
    if how == IN_TRANSACTION:
        request.getfixturevalue("db")
        from django.db import connection

        take_on(connection)
        yield
        return
    request.getfixturevalue("transactional_db")  # set up first, so emptied after the role is given up
    take_on_for_session()
    try:
        yield
    finally:
        give_up_for_session()
