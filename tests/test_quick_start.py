"""`make run` is the quick start: SQLite and local files. Its database steps (migrate,
seed_demo) must work there as they do on PostgreSQL; the journal's hand-written statements
once used PostgreSQL's row locks and broke it unnoticed, as the suite runs on PostgreSQL."""

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_quick_start_migrates_and_seeds_the_demo_on_sqlite(tmp_path):
    database = tmp_path / "db.sqlite3"
    env = {**os.environ, "DJANGO_DEBUG": "1", "DATABASE_URL": f"sqlite:///{database}",
           "DJANGO_SECURE_COOKIES": "0", "DJANGO_SECURE_SSL_REDIRECT": "0"}
    for name in ("AWS_STORAGE_BUCKET_NAME", "AWS_S3_ENDPOINT_URL", "DJANGO_SETTINGS_MODULE"):
        env.pop(name, None)
    env["DJANGO_MEDIA_ROOT"] = str(tmp_path / "media")
    for command in (["migrate", "--noinput", "-v", "0"], ["seed_demo"]):
        done = subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=600)
        assert done.returncode == 0, f"manage.py {' '.join(command)}:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}"
    with sqlite3.connect(database) as db:
        applications = db.execute("SELECT count(*) FROM bidrag_application").fetchone()[0]
        events = db.execute("SELECT count(*) FROM arenden_journalevent").fetchone()[0]
        broken = db.execute(
            "SELECT count(*) FROM arenden_case c WHERE c.journal_seq > 0 AND c.journal_head <> "
            "(SELECT e.hash FROM arenden_journalevent e WHERE e.case_id = c.id AND e.seq = c.journal_seq)"
        ).fetchone()[0]
    assert applications > 10 and events > applications and broken == 0
