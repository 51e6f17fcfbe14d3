"""The harness itself: real PostgreSQL, real S3 (SeaweedFS), real SMTP, real worker."""

import hashlib
import os
import secrets
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.mail import send_mail
from django.db import connection

BASE_DIR = Path(__file__).resolve().parent.parent


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read()


def test_database_is_postgresql(db):
    assert connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_database(), version()")
        name, version = cursor.fetchone()
    assert name == connection.settings_dict["NAME"]
    assert name.startswith("test_")
    assert version.startswith("PostgreSQL")


def test_default_storage_is_seaweedfs_s3(seaweedfs):
    from storages.backends.s3 import S3Storage

    default_storage._setup()  # resolve the lazy object
    storage = default_storage._wrapped
    assert isinstance(storage, S3Storage)
    assert storage.endpoint_url == seaweedfs.endpoint_url
    assert urlsplit(storage.endpoint_url).hostname == "127.0.0.1"
    assert storage.bucket_name == seaweedfs.bucket == os.environ["AWS_STORAGE_BUCKET_NAME"]
    config = storage.client_config
    assert config.signature_version == "s3v4"
    assert config.s3 == {"addressing_style": "path"}


def test_file_round_trips_through_default_storage(seaweedfs):
    payload = os.urandom(300_000) + "åäö\n".encode()
    name = default_storage.save(f"harness/{secrets.token_hex(8)}/bilaga.bin", ContentFile(payload))
    try:
        with default_storage.open(name, "rb") as handle:
            assert hashlib.sha256(handle.read()).hexdigest() == hashlib.sha256(payload).hexdigest()
        assert default_storage.size(name) == len(payload)
        # It really is in the bucket, not on local disk.
        head = seaweedfs.client().head_object(Bucket=seaweedfs.bucket, Key=name)
        assert head["ContentLength"] == len(payload)
        # file_overwrite=False: the same name again gets a new name.
        second = default_storage.save(name, ContentFile(b"other"))
        assert second != name
        default_storage.delete(second)
    finally:
        default_storage.delete(name)
    assert not default_storage.exists(name)


def test_presigned_url_is_sigv4_and_serves_the_bytes(seaweedfs):
    payload = os.urandom(50_000)
    name = default_storage.save(f"harness/{secrets.token_hex(8)}.pdf", ContentFile(payload))
    try:
        url = default_storage.url(name)
        parts = urlsplit(url)
        query = parse_qs(parts.query)
        assert f"{parts.scheme}://{parts.netloc}" == seaweedfs.endpoint_url
        assert parts.path.startswith(f"/{seaweedfs.bucket}/")  # path-style addressing
        assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
        assert "X-Amz-Signature" in query
        assert "Signature" not in query  # not SigV2
        assert int(query["X-Amz-Expires"][0]) <= 300
        assert fetch(url) == payload

        # S3 really checks the signature: a tampered one is refused.
        signature = query["X-Amz-Signature"][0]
        forged = url.replace(signature, ("0" if signature[0] != "0" else "1") + signature[1:])
        with pytest.raises(urllib.error.HTTPError) as refused:
            fetch(forged)
        assert refused.value.code == 403
        # And an unsigned URL is refused too.
        with pytest.raises(urllib.error.HTTPError) as anonymous:
            fetch(f"{seaweedfs.endpoint_url}{parts.path}")
        assert anonymous.value.code == 403
    finally:
        default_storage.delete(name)


def test_smtp_backend_delivers_to_a_real_smtp_server(smtp_backend, mailoutbox):
    sent = send_mail(
        "Ansökan mottagen",
        "Hej!\nDin ansökan är registrerad.",
        "Brå <no-reply@bra.se>",
        ["sokande@example.se"],
    )
    assert sent == 1
    assert mailoutbox == []  # it went over SMTP, not to the locmem outbox
    [mail] = smtp_backend.wait_for(1)
    assert mail.mail_from == "no-reply@bra.se"
    assert mail.rcpt_tos == ("sokande@example.se",)
    assert mail.subject == "Ansökan mottagen"
    assert "Din ansökan är registrerad." in mail.body


def test_task_worker_runs_against_the_test_database(task_worker):
    from django_tasks_db.models import DBTaskResult

    # Nothing enqueued: the batch worker connects to the test database and exits.
    task_worker.run_batch(timeout=60)
    assert DBTaskResult.objects.count() == 0


def test_batch_worker_runs_a_task_with_test_db_s3_and_smtp(task_worker, smtp_backend):
    from django.tasks import TaskResultStatus

    from tests.harness.probe_tasks import probe

    content = secrets.token_hex(16)
    result = probe.enqueue("handlaggare@example.se", f"harness/{content}.txt", content)
    task_worker.run_batch(timeout=60)

    result.refresh()
    assert result.status == TaskResultStatus.SUCCESSFUL, task_worker.output
    name = result.return_value
    try:
        with default_storage.open(name, "rb") as handle:
            assert handle.read() == content.encode()
    finally:
        default_storage.delete(name)
    [mail] = smtp_backend.wait_for(1)
    assert mail.rcpt_tos == ("handlaggare@example.se",)
    assert content in mail.body


def test_background_worker_picks_up_tasks(running_task_worker, smtp_backend):
    from django.tasks import TaskResultStatus

    from tests.harness.probe_tasks import probe

    results = [
        probe.enqueue(f"sokande{i}@example.se", f"harness/bg-{secrets.token_hex(8)}.txt", f"nr {i}")
        for i in range(3)
    ]

    def all_done():
        for result in results:
            result.refresh()
        return all(result.status == TaskResultStatus.SUCCESSFUL for result in results)

    running_task_worker.wait_until(all_done, timeout=30)
    assert running_task_worker.running
    mails = smtp_backend.wait_for(3)
    assert sorted(rcpt for mail in mails for rcpt in mail.rcpt_tos) == [
        f"sokande{i}@example.se" for i in range(3)
    ]
    for result in results:
        default_storage.delete(result.return_value)
    pid = running_task_worker.process.pid
    running_task_worker.stop()
    assert running_task_worker.process is None
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_check_deploy_passes_with_production_settings():
    """`manage.py check --deploy` with the environment production would have."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key
        not in {
            "DJANGO_SECURE_SSL_REDIRECT",
            "DJANGO_SECURE_COOKIES",
            "DJANGO_FAST_PASSWORD_HASHER",
            "DJANGO_HSTS_SECONDS",
            "EMAIL_BACKEND",
        }
    }
    env.update(
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(64),
        DJANGO_ALLOWED_HOSTS="bidrag.example.se",
    )
    completed = subprocess.run(
        [sys.executable, str(BASE_DIR / "manage.py"), "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output
    assert "WARNING" not in output and "?: (" not in output, output
    assert "System check identified no issues" in output, output


# -- the suite's database role (tests/harness/app_role.py, issue 9) ----------------------


@pytest.mark.django_db
def test_a_test_in_a_transaction_runs_as_the_application_role_which_owns_nothing():
    from django.db import DatabaseError, connection, transaction

    from tests.harness.app_role import ROLE

    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user, session_user")
        assert cursor.fetchone() == (ROLE, connection.settings_dict["USER"])
        cursor.execute("SELECT count(*) FROM pg_class WHERE relowner = (SELECT oid FROM pg_roles WHERE rolname = %s)",
                       [ROLE])
        assert cursor.fetchone()[0] == 0
    with pytest.raises(DatabaseError, match="permission denied"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("TRUNCATE bidrag_application CASCADE")


@pytest.mark.django_db
@pytest.mark.owner_role
def test_a_test_marked_owner_role_runs_as_the_owner():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        assert cursor.fetchone()[0] == connection.settings_dict["USER"]


@pytest.mark.django_db(transaction=True)
def test_a_transactional_test_and_the_processes_it_starts_run_as_the_application_role():
    """Browsers, workers and two schedulers at once need committed data: they run as the
    role too, on this test's connection, on any connection opened later in this process,
    and in a child Django process (PGOPTIONS, passed on by worker_environ)."""
    from django.db import DatabaseError, connections

    from tests.harness.app_role import ROLE
    from tests.harness.worker import MANAGE_PY, worker_environ

    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user, session_user")
        assert cursor.fetchone() == (ROLE, connection.settings_dict["USER"])
        with pytest.raises(DatabaseError, match="permission denied"):
            cursor.execute("TRUNCATE bidrag_application CASCADE")
    later = connections.create_connection("default")
    try:
        with later.cursor() as cursor:
            cursor.execute("SELECT current_user")
            assert cursor.fetchone()[0] == ROLE
    finally:
        later.close()
    child = subprocess.run(
        [sys.executable, str(MANAGE_PY), "shell", "-c",
         "from django.db import connection\nc = connection.cursor(); c.execute('SELECT current_user'); print(c.fetchone()[0])"],
        env=worker_environ(), capture_output=True, text=True, timeout=120,
    )
    assert child.returncode == 0, child.stderr
    assert child.stdout.strip().splitlines()[-1] == ROLE


@pytest.mark.django_db(transaction=True)
def test_after_a_transactional_test_the_owner_empties_the_database_again(django_user_model):
    """The role is given up before pytest-django's TRUNCATE (which the role may not): this
    test leaves a row, and the next test starts without it (the previous test's rows are
    gone already, or this one's create would fail on the unique username)."""
    from tests.harness.app_role import ROLE

    django_user_model.objects.create(username="harness-role-check")
    assert os.environ.get("PGOPTIONS", "").endswith(f"-c role={ROLE}")


@pytest.mark.django_db(transaction=True)
def test_after_a_transactional_test_the_owner_empties_the_database_again_twice(django_user_model):
    assert not django_user_model.objects.filter(username="harness-role-check").exists()
    django_user_model.objects.create(username="harness-role-check")
