"""pytest fixtures of the harness; ``tests/conftest.py`` makes them available everywhere.

``seaweedfs`` (session)
    The running SeaweedFS: ``.endpoint_url``, ``.bucket``, ``.client()`` (a boto3 S3
    client with the harness credentials). ``default_storage`` already points at it.

``smtp_server`` (function)
    A real SMTP server (aiosmtpd) on 127.0.0.1 and a free port, fresh for each test.
    ``.messages`` is the list of ``ReceivedMail`` (``mail_from``, ``rcpt_tos``, ``raw``,
    ``message`` -- an ``email.message.EmailMessage`` --, ``subject``, ``body``);
    ``.wait_for(count, timeout)`` blocks until that many arrived (for mail sent by a
    worker process). ``.host``/``.port`` to connect.

``smtp_backend`` (function)
    ``smtp_server`` with Django pointed at it for this test: Django's SMTP backend, host
    and port of the server, no TLS, no login -- as EMAIL_* settings, or as
    ``MAILERS["default"]`` if settings.py defines MAILERS. Returns the server.
    Without it, tests get Django's locmem backend (``django.core.mail.outbox``)::

        def test_receipt_is_mailed(smtp_backend):
            send_mail("Kvitto", "Tack", None, ["a@example.se"])
            [mail] = smtp_backend.messages
            assert mail.rcpt_tos == ("a@example.se",)

``task_worker`` (function; implies ``transactional_db``)
    A ``tests.harness.worker.TaskWorker`` for ``manage.py db_worker`` against this test's
    database, with this test's e-mail settings (so together with ``smtp_backend`` the
    worker delivers to ``smtp_server``). Not started: call ``task_worker.run_batch()`` to
    process every ready task and wait for the worker to exit (deterministic, preferred),
    or ``task_worker.start()`` for a background worker and ``task_worker.wait_until(fn)``
    to poll for the effect. Stopped by PID at teardown. Tasks must be enqueued in
    committed transactions, hence ``transactional_db``::

        def test_outbox_is_delivered(task_worker, smtp_backend):
            enqueue_something()
            task_worker.run_batch()
            assert smtp_backend.wait_for(1)

``running_task_worker`` (function)
    ``task_worker`` already started in the background (after ``smtp_backend``, if the
    test uses that too).

``oidc_provider`` (session)
    A real OpenID Connect provider (panva's oidc-provider under Node, see
    ``tests/harness/oidc.py``) on 127.0.0.1, set up like a Swedish e-ID broker, with our
    relying party registered (private_key_jwt, a fresh key). ``.login(url,
    personnummer=...)`` acts as the person's browser there; ``.events()``, ``.tamper()``.

``oidc_rp`` (function)
    ``oidc_provider`` with Django's OIDC_* settings pointed at it for this test.

``_staff_second_factor_off`` (session, autouse)
    OTP_REQUIRED_FOR_STAFF off for the suite: tests log staff in with ``force_login`` or
    the password form and are about something else. ``tests/konton`` turn it on (with
    the ``settings`` fixture) and prove the gate on every staff URL family.
"""

from __future__ import annotations

import contextlib
import os
import re

import pytest

from .oidc import OIDCProvider, OIDCProviderError
from .plugin import harness_seaweedfs
from .smtp import SMTPServer
from .worker import TaskWorker


@pytest.fixture(scope="session")
def seaweedfs(pytestconfig):
    server = harness_seaweedfs(pytestconfig)
    if server is None:
        pytest.fail("SeaweedFS is not running: load the harness with -p tests.harness.plugin")
    return server


@pytest.fixture
def smtp_server():
    with SMTPServer() as server:
        yield server


@pytest.fixture
def smtp_backend(settings, smtp_server):
    smtp = "django.core.mail.backends.smtp.EmailBackend"
    if hasattr(settings, "MAILERS"):  # Django 6.1 mailers, once settings.py defines them
        settings.MAILERS = {
            **settings.MAILERS,
            "default": {
                "BACKEND": smtp,
                "OPTIONS": {"host": smtp_server.host, "port": smtp_server.port, "use_tls": False, "use_ssl": False},
            },
        }
    else:  # the EMAIL_* settings, deprecated in Django 6.1
        settings.EMAIL_BACKEND = smtp
        settings.EMAIL_HOST = smtp_server.host
        settings.EMAIL_PORT = smtp_server.port
        settings.EMAIL_USE_TLS = False
        settings.EMAIL_USE_SSL = False
        settings.EMAIL_HOST_USER = ""
        settings.EMAIL_HOST_PASSWORD = ""
    return smtp_server


@pytest.fixture
def task_worker(transactional_db, tmp_path):
    worker = TaskWorker(log_dir=tmp_path)
    yield worker
    worker.stop()


@pytest.fixture
def running_task_worker(request, task_worker):
    if "smtp_backend" in request.fixturenames:
        request.getfixturevalue("smtp_backend")
    return task_worker.start()


@pytest.fixture(scope="session")
def oidc_provider():
    provider = OIDCProvider()
    try:
        provider.start()
    except OIDCProviderError as exc:
        pytest.fail(str(exc))
    yield provider
    provider.stop()


@pytest.fixture
def oidc_rp(settings, oidc_provider):
    for name, value in oidc_provider.django_settings().items():
        setattr(settings, name, value)
    return oidc_provider


@pytest.fixture(scope="session", autouse=True)
def _staff_second_factor_off():
    from django.test import override_settings

    override = override_settings(OTP_REQUIRED_FOR_STAFF=False)
    override.enable()
    yield
    override.disable()


# -- one test database per run -------------------------------------------------------
#
# Several people (and CI) run the suite on one PostgreSQL server at the same time; with
# the fixed name test_bidrag the second run would try to drop the first one's database.
# Each run therefore gets test_<name>_r<pid> (each pytest-xdist worker, a process of its
# own, test_<name>_gw<n>_r<pid>); databases of runs whose process is gone
# (killed before pytest-django could drop them) are dropped at start. --reuse-db keeps
# the fixed name, so that reuse works.

_RUN_SUFFIX = f"r{os.getpid()}"


def _drop_stale_test_databases(db: dict, prefix: str) -> None:
    import psycopg

    # pytest-xdist's workers name theirs test_<name>_gw<n>_r<pid>: any worker's leftovers too.
    base = re.sub(r"_gw\d+$", "", prefix)
    pattern = re.compile(rf"^{re.escape(base)}(?:_gw\d+)?_r(\d+)(_gw\d+)?$")
    try:
        with psycopg.connect(
            host=db.get("HOST") or None,
            port=db.get("PORT") or None,
            user=db.get("USER") or None,
            password=db.get("PASSWORD") or None,
            dbname="postgres",
            connect_timeout=3,
            autocommit=True,
        ) as conn:
            names = [row[0] for row in conn.execute("SELECT datname FROM pg_database")]
            for name in names:
                match = pattern.match(name)
                if not match or _alive(int(match.group(1))):
                    continue
                with contextlib.suppress(psycopg.Error):  # in use after all; leave it
                    conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
    except psycopg.Error:
        pass


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@pytest.fixture(scope="session")
def django_db_modify_db_settings(request, django_db_modify_db_settings_parallel_suffix):
    if request.config.getoption("reuse_db", False):
        return
    from django.conf import settings

    for db in settings.DATABASES.values():
        if "postgresql" not in db["ENGINE"]:
            continue
        test = db.setdefault("TEST", {})
        name = test.get("NAME") or f"test_{db['NAME']}"
        _drop_stale_test_databases(db, name)
        test["NAME"] = f"{name}_{_RUN_SUFFIX}"
