"""Test harness: the real parts the test suite runs against (DESIGN.md §5).

* ``tests.harness.plugin`` is a pytest plugin that must be loaded with
  ``-p tests.harness.plugin`` (``make test`` does).  Before pytest-django reads
  ``config.settings`` it sets the test environment, checks that PostgreSQL answers and
  starts SeaweedFS on loopback; it stops SeaweedFS again at the end of the session.
* ``tests.harness.seaweedfs``: starting and stopping ``weed mini``.
* ``tests.harness.smtp``: an aiosmtpd server on loopback that collects messages.
* ``tests.harness.worker``: ``manage.py db_worker`` as a subprocess.
* ``tests.harness.rq_worker``: a Redis database of the test run's own and
  ``manage.py rqworker`` as a subprocess, for the RQ task backend.
* ``tests.harness.fixtures``: the pytest fixtures (``smtp_server``, ``smtp_backend``,
  ``task_worker``), made available to every test by ``tests/conftest.py``.
"""
