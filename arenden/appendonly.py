"""Database-level guards for append-only tables, used by migrations.

PostgreSQL: a trigger refuses UPDATE and DELETE on every row, and TRUNCATE on the table.
The TRUNCATE guard yields only to a session that sets `bidrag.allow_truncate = on`, which
the test harness does to empty its throw-away database between tests; production should
also run the application under a role without TRUNCATE privilege. SQLite (the quick
start only): triggers refuse UPDATE and DELETE.
"""

from django.db import migrations

PG_FUNCTION = """
CREATE OR REPLACE FUNCTION bidrag_refuse_change() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' AND current_setting('bidrag.allow_truncate', true) = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""


def _pg_sql(table: str, truncate: bool) -> tuple[str, str]:
    forward = (
        f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION bidrag_refuse_change();"
    )
    backward = f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};"
    if truncate:
        forward += (
            f" CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION bidrag_refuse_change();"
        )
        backward += f" DROP TRIGGER IF EXISTS {table}_no_truncate ON {table};"
    return forward, backward


def _sqlite_sql(table: str) -> tuple[list[str], list[str]]:
    forward = [
        f"CREATE TRIGGER {table}_no_{op.lower()} BEFORE {op} ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {op} refused'); END"
        for op in ("UPDATE", "DELETE")
    ]
    backward = [f"DROP TRIGGER IF EXISTS {table}_no_{op}" for op in ("update", "delete")]
    return forward, backward


def append_only(table: str, *, truncate: bool = False) -> migrations.RunPython:
    """A migration operation installing the guard on `table` for the database in use."""

    def forward(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(PG_FUNCTION, params=None)  # no %-placeholders: RAISE uses %
            schema_editor.execute(_pg_sql(table, truncate)[0])
        elif schema_editor.connection.vendor == "sqlite":
            for statement in _sqlite_sql(table)[0]:
                schema_editor.execute(statement)

    def backward(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(_pg_sql(table, truncate)[1])
        elif schema_editor.connection.vendor == "sqlite":
            for statement in _sqlite_sql(table)[1]:
                schema_editor.execute(statement)

    return migrations.RunPython(forward, backward)


def truncate_guard(table: str) -> migrations.RunPython:
    """A migration operation adding only the TRUNCATE guard, to a table whose row guard an
    earlier migration installed without it (PostgreSQL; SQLite has no TRUNCATE)."""

    def forward(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(PG_FUNCTION, params=None)
            schema_editor.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION bidrag_refuse_change();"
            )

    def backward(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table};")

    return migrations.RunPython(forward, backward)
