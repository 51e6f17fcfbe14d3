"""Database roles: the application runs as a role that owns no table (DESIGN.md §3).

Migrations run as the owner of the tables; the web and worker processes connect as an
application role made by `application_grants`: SELECT, INSERT, UPDATE and DELETE on
every table, only SELECT and INSERT on the append-only ones, no TRUNCATE, no TRIGGER, no
REFERENCES, and the sequences it needs. Owning nothing, it cannot DISABLE TRIGGER; not
being a superuser, it cannot SET session_replication_role; without TRUNCATE the
`bidrag.allow_truncate` setting gives it nothing; the journal head on the case moves only
onto the next appended event (migration 0007). The statements are idempotent: run them
again after every migrate (`manage.py db_app_grants ROLE --apply`), as the owner.
"""

from django.db import connection

GUARD_FUNCTION = "bidrag_refuse_change"


def append_only_tables() -> list[str]:
    """Every table the append-only guard protects, read from the database itself."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
            " JOIN pg_proc p ON p.oid = t.tgfoid WHERE p.proname = %s ORDER BY c.relname",
            [GUARD_FUNCTION],
        )
        return [row[0] for row in cursor.fetchall()]


def application_grants(role: str) -> list[str]:
    """The statements that make `role` (which must exist) the application's role."""
    q = connection.ops.quote_name
    role_q = q(role)
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_schema(), current_user")
        schema, owner = cursor.fetchone()
    schema_q = q(schema)
    statements = [
        f"GRANT USAGE ON SCHEMA {schema_q} TO {role_q}",
        f"REVOKE ALL ON ALL TABLES IN SCHEMA {schema_q} FROM {role_q}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema_q} TO {role_q}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema_q} TO {role_q}",
        # Tables and sequences the owner makes in later migrations.
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {q(owner)} IN SCHEMA {schema_q}"
        f" GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role_q}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {q(owner)} IN SCHEMA {schema_q} GRANT USAGE, SELECT ON SEQUENCES TO {role_q}",
    ]
    statements += [f"REVOKE UPDATE, DELETE ON {q(table)} FROM {role_q}" for table in append_only_tables()]
    return statements
