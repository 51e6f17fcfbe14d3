"""The queues' kinds and filters (issue 7), each read from an index of its own, so a rare
filter reads its few rows and a common one walks the queue's order without a sort:

* workflows_my_open_tasks: a person's open human tasks (the "mine" queue), in queue order;
* workflows_unassigned_human_tasks: a role's open human tasks nobody holds, in queue order;
* workflows_open_waits: the steps waiting for the applicant (viewflow's FUNCTION tasks,
  still NEW), for the "waiting for the applicant" queue;
* application_deadline: the applicant's svarsfrist, set only while the case waits;
* workflows_submitted_total: the requested amount as submitted (SubmittedVersion.content's
  total) for the amount filter and sort, written as workflows.selectors.requested_as_submitted
  writes it, which is what lets the planner use it.

viewflow and bidrag own the tables; these indexes serve the queues and are made here (as
0002 made the queue's own). Each predicate reads as the query writes it.
"""

from django.db import migrations

INDEXES = {
    "workflows_my_open_tasks": (
        "ON viewflow_task (owner_id, created, id) WHERE flow_task_type = 'HUMAN' AND status IN ('NEW', 'ASSIGNED')"
    ),
    "workflows_unassigned_human_tasks": (
        "ON viewflow_task (owner_permission, created, id) "
        "WHERE flow_task_type = 'HUMAN' AND status IN ('NEW', 'ASSIGNED') AND owner_id IS NULL"
    ),
    "workflows_open_waits": "ON viewflow_task (created, id) WHERE flow_task_type = 'FUNCTION' AND status = 'NEW'",
    "application_deadline": "ON bidrag_application (deadline) WHERE deadline IS NOT NULL",
}
# PostgreSQL's cast syntax: the quick start's SQLite (a few rows) goes without this one.
POSTGRESQL_ONLY = {
    "workflows_submitted_total": (
        "ON bidrag_submittedversion ((((content ->> 'total'))::numeric(14, 2)), application_id)"
    ),
}


def _create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name, definition in POSTGRESQL_ONLY.items():
            schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} {definition}")


def _drop(apps, schema_editor):
    for name in POSTGRESQL_ONLY:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):

    dependencies = [
        ("viewflow", "0015_task_scheduled"),
        ("bidrag", "0008_submitted_version"),
        ("workflows", "0003_scheduled_run"),
    ]

    operations = [
        migrations.RunSQL(
            sql=f"CREATE INDEX IF NOT EXISTS {name} {definition}",
            reverse_sql=f"DROP INDEX IF EXISTS {name}",
        )
        for name, definition in INDEXES.items()
    ] + [migrations.RunPython(_create, _drop)]
