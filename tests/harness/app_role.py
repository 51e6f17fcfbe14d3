"""The suite runs as the application's database role (issue 9).

Migrations run as the owner (pytest-django creates the test database as `postgres`); then
a role made for this run gets exactly what production's application role gets
(`manage.py db_app_grants ROLE --apply`, arenden.dbroles), and every test in a transaction
(the `db` fixture, `@pytest.mark.django_db` without `transaction=True`) takes it on with
SET LOCAL ROLE before its own fixtures run: its data is made, read and changed by a role
that owns no table, has no TRUNCATE and cannot disable a trigger, as the web and worker
processes do. The rollback at the test's end drops the role again with everything else.

Left as the owner, and why:
* tests with `transaction=True`, `transactional_db` or `live_server` (browsers, workers):
  pytest-django empties the database after each with TRUNCATE, which the role may not;
* tests marked `@pytest.mark.owner_role`: they change the schema, make roles, or tamper
  with the journal the way only an owner can, to show that it is noticed. Inside a test,
  `as_owner()` does the same for a few statements.

`BIDRAG_TEST_DB_ROLE=owner` runs everything as the owner (to tell a grant problem from a bug).
"""

from __future__ import annotations

import contextlib
import os

import pytest

ROLE = f"bidrag_app_test_{os.getpid()}"


def wanted() -> bool:
    return os.environ.get("BIDRAG_TEST_DB_ROLE", "application") != "owner"


def applies_to(item) -> bool:
    """Whether `item` runs as the application role: a test in a transaction, not marked."""
    if "bench" in item.path.parts or item.get_closest_marker("owner_role"):
        return False
    names = set(getattr(item, "fixturenames", ()))
    if {"transactional_db", "live_server", "django_db_reset_sequences"} & names:
        return False
    marker = item.get_closest_marker("django_db")
    if marker is not None:
        return not (marker.kwargs.get("transaction") or marker.kwargs.get("reset_sequences"))
    return "db" in names


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


@contextlib.contextmanager
def as_owner():
    """A few statements as the owner inside a test that runs as the application role."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        current = cursor.fetchone()[0]
        cursor.execute("RESET ROLE")
    try:
        yield
    finally:
        if current == ROLE:
            with connection.cursor() as cursor:
                cursor.execute(f'SET LOCAL ROLE "{ROLE}"')


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
    if not wanted() or not applies_to(request.node):
        yield
        return
    request.getfixturevalue("application_role")
    request.getfixturevalue("db")
    from django.db import connection

    take_on(connection)
    yield
