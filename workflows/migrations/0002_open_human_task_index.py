"""The queues (issue 7): a partial index on viewflow's task table for the open human tasks
only, per permission, in the queue's order (created, id). A queue's page and its count then
read that queue's own tasks, never the whole of viewflow_task (finished tasks, the other
queues', the flow's machine steps), and its last page costs what its first does.

viewflow owns the table, so the index is ours, made here; the statement reads the same in
PostgreSQL and in the quick start's SQLite. Its predicate is written as the queue's query
writes it (workflows.selectors._open_tasks), which is what lets the planner use it.
"""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("viewflow", "0015_task_scheduled"),
        ("workflows", "0001_initial"),
    ]

    operations = [
        migrations.RunSQL(
            sql=(
                "CREATE INDEX IF NOT EXISTS workflows_open_human_tasks "
                "ON viewflow_task (owner_permission, created, id) "
                "WHERE flow_task_type = 'HUMAN' AND status IN ('NEW', 'ASSIGNED')"
            ),
            reverse_sql="DROP INDEX IF EXISTS workflows_open_human_tasks",
        ),
    ]
