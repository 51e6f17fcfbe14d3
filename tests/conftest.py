"""Shared test setup.

The real parts (PostgreSQL, SeaweedFS S3, SMTP, the task worker) come from the harness in
``tests/harness``; see ``tests/harness/fixtures.py`` for the fixtures and how to use them:

* ``seaweedfs``: the S3 server behind ``default_storage`` (session)
* ``smtp_server``, ``smtp_backend``: a real SMTP server on loopback, and Django sending to it
* ``task_worker``, ``running_task_worker``: ``manage.py db_worker`` on the test database
* ``oidc_provider``, ``oidc_rp``: a real OpenID Connect provider (oidc-provider, Node) on loopback

Run the suite with ``make test`` (``make test PYTEST_ARGS="tests/test_x.py -k name"`` for
a part of it). Running pytest by hand needs the plugin that starts the real parts before
Django reads its settings::

    PYTHONPATH=. .venv/bin/pytest -p tests.harness.plugin tests/test_x.py
"""

import pytest

from tests.harness.app_role import _as_application_role, application_role  # noqa: F401 - fixtures
from tests.harness.fixtures import (  # noqa: F401 - fixtures
    _staff_second_factor_off,
    django_db_modify_db_settings,
    oidc_provider,
    oidc_rp,
    running_task_worker,
    seaweedfs,
    smtp_backend,
    smtp_server,
    task_worker,
)


def pytest_configure(config):
    if not config.pluginmanager.has_plugin("tests.harness.plugin"):
        raise pytest.UsageError(
            "The test harness plugin is not loaded: run `make test`, or "
            "`PYTHONPATH=. .venv/bin/pytest -p tests.harness.plugin ...`."
        )

from tests.domain import call, cast, draft, make_application, malmo, reference, stockholm  # noqa: E402,F401


def _uses_database(item) -> bool:
    if "bench" in item.path.parts:  # benchmarks seed and move cases in bulk, beside the door, on purpose
        return False
    return item.get_closest_marker("django_db") is not None or bool(
        {"db", "transactional_db", "live_server"} & set(getattr(item, "fixturenames", ())))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """After every test that used the database, while its data is still there: the queues'
    rows (workflows.models.QueueEntry) are exactly what the tasks and applications say, so
    every path that changes a task or an application goes through the door (issue 7)."""
    result = yield
    if _uses_database(item):
        from workflows.queue_entries import queue_drift

        drift = queue_drift()
        assert not drift, "the queue's rows differ from the tasks (a change beside workflows.door?):\n" + "\n".join(
            drift[:10])
    return result
