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
