"""The notification tests that need a task worker run once per task backend (issue 8).

``task_worker`` is overridden here (``running_task_worker`` in tests/harness/fixtures.py builds on it): parametrized
over the database backend (``manage.py db_worker``, id ``db``) and the RQ backend (Redis and
``manage.py rqworker``, id ``rq``). The ``rq`` variant points this test's settings at the run's
Redis database (``rq_backend``) before it hands out a ``tests.harness.rq_worker.RQWorker``,
which has the interface the tests use of ``TaskWorker``: ``run_batch()``, ``start()``,
``stop()``, ``wait_until()``, ``output``, ``extra_env``, plus ``backend`` and
``task_count(task_path)`` for what each backend holds of a task.

A test that is about the database backend itself (it reads ``DBTaskResult`` rows, or what a
dead ``db_worker`` left RUNNING) says so::

    @pytest.mark.task_backends("database", reason="...")

Redis is required: without one, the ``rq`` variants fail and say how to start it.
"""

import pytest
from django_tasks_db.models import DBTaskResult

from tests.harness.rq_worker import RQ_BACKEND, RedisDatabase, RedisUnavailable, RQWorker
from tests.harness.worker import TaskWorker

BACKENDS = {"database": "db", "rq": "rq"}


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "task_backends(*names, reason): run the test's task_worker only on these backends "
        "(of 'database', 'rq'; tests/notifications/conftest.py), for the reason given",
    )


def pytest_generate_tests(metafunc):
    if "task_backend" not in metafunc.fixturenames:
        return
    backends = list(BACKENDS)
    marker = metafunc.definition.get_closest_marker("task_backends")
    if marker is not None:
        backends = list(marker.args)
        if not backends or set(backends) - set(BACKENDS) or not marker.kwargs.get("reason"):
            raise pytest.UsageError(
                f"{metafunc.definition.nodeid}: task_backends takes backends of {sorted(BACKENDS)} "
                "and a reason="
            )
    metafunc.parametrize("task_backend", backends, ids=[BACKENDS[b] for b in backends], indirect=True)


class DatabaseTaskWorker(TaskWorker):
    """``TaskWorker`` (``manage.py db_worker``) with what the ``rq`` variant has besides."""

    backend = "database"

    def task_count(self, task_path: str) -> int:
        """How many results of the task at ``task_path`` the task table holds, in any state."""
        return DBTaskResult.objects.filter(task_path=task_path).count()


@pytest.fixture(scope="session")
def redis_database():
    database = RedisDatabase()
    try:
        database.claim()
    except RedisUnavailable as exc:
        pytest.fail(str(exc), pytrace=False)
    yield database
    database.release()


@pytest.fixture
def rq_backend(settings, redis_database):
    """This process queues its tasks in the run's Redis database, through django-tasks-rq."""
    redis_database.flush()
    settings.RQ_QUEUES = {"default": {**settings.RQ_QUEUES["default"], "URL": redis_database.url}}
    settings.TASKS = {"default": {"BACKEND": RQ_BACKEND}}
    yield redis_database
    redis_database.flush()


@pytest.fixture
def task_backend(request):
    """The task backend this run of the test uses: "database" or "rq" (see pytest_generate_tests)."""
    return request.param


@pytest.fixture
def task_worker(request, task_backend, transactional_db, tmp_path):
    if task_backend == "rq":
        worker = RQWorker(request.getfixturevalue("rq_backend"), tmp_path)
    else:
        worker = DatabaseTaskWorker(log_dir=tmp_path)
    yield worker
    worker.stop()
