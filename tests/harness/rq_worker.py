"""Redis and ``manage.py rqworker`` for the tests of the RQ task backend (issue 8).

Redis is not started here: these machines run one on 127.0.0.1:6379 (or ``$REDIS_URL``'s
server). A test run claims one numbered database of it for itself, so that runs side by
side (or a developer's ``make run`` on database 0) never see each other's queues:

* the claim is a key ``bidrag-tests:redis-db:<n>`` in database 0, set only if absent
  (``SET NX``) with this host and PID as its value and a TTL; a claim whose process on
  this host is gone is taken over;
* the claimed database is emptied when claimed, between tests and at the end, and the
  claim is then deleted.

If no Redis answers, ``RedisDatabase.claim()`` raises ``RedisUnavailable`` with a message
saying that Redis is required and how to start it; the fixtures turn it into a failure,
never a skip.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from .worker import BASE_DIR, MANAGE_PY, worker_environ

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
RQ_BACKEND = "django_tasks_rq.RQBackend"
CLAIM_PREFIX = "bidrag-tests:redis-db:"
CLAIM_SECONDS = 3 * 60 * 60  # longer than any test run


class RedisUnavailable(RuntimeError):
    pass


def redis_url_with_db(url: str, number: int) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{number}"))


def _client(url: str, number: int):
    import redis

    return redis.Redis.from_url(redis_url_with_db(url, number), socket_connect_timeout=3, socket_timeout=10)


def unavailable_message(url: str, error: Exception) -> str:
    return (
        f"Redis is required for the RQ task backend tests, and none answers at {url} "
        f"({type(error).__name__}: {error}).\n"
        "Start it on loopback, e.g. `redis-server --bind 127.0.0.1 --port 6379 --daemonize yes` "
        "(Debian: `apt-get install redis-server`, then `service redis-server start`), "
        "or point REDIS_URL at a Redis server that runs."
    )


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class RedisDatabase:
    """One numbered database of the Redis server at ``base_url``, for this test run alone."""

    def __init__(self, base_url: str | None = None) -> None:
        self.base_url = base_url or os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL
        self.number: int | None = None
        self._owner = f"{socket.gethostname()}:{os.getpid()}"

    @property
    def url(self) -> str:
        assert self.number is not None, "claim() first"
        return redis_url_with_db(self.base_url, self.number)

    def client(self):
        assert self.number is not None, "claim() first"
        return _client(self.base_url, self.number)

    def claim(self) -> RedisDatabase:
        import redis

        control = _client(self.base_url, 0)
        try:
            control.ping()
            databases = int(control.config_get("databases").get("databases", 16))
        except redis.exceptions.ResponseError:  # CONFIG refused (a managed Redis): assume the default
            databases = 16
        except redis.exceptions.RedisError as exc:
            raise RedisUnavailable(unavailable_message(self.base_url, exc)) from exc
        for number in range(1, databases):
            key = f"{CLAIM_PREFIX}{number}"
            if control.set(key, self._owner, nx=True, ex=CLAIM_SECONDS) or self._take_over(control, key):
                self.number = number
                self.flush()
                return self
        raise RedisUnavailable(
            f"Every Redis database 1..{databases - 1} at {self.base_url} is claimed by a running test run "
            f"(keys {CLAIM_PREFIX}* in database 0); wait for them or raise `databases` in redis.conf."
        )

    def _take_over(self, control, key: str) -> bool:
        """Take a claim whose test run on this host is gone (killed before it let go)."""
        import redis

        with control.pipeline() as pipe:
            try:
                pipe.watch(key)
                holder = (pipe.get(key) or b"").decode()
                host, _, pid = holder.rpartition(":")
                if host != socket.gethostname() or not pid.isdigit() or _alive(int(pid)):
                    return False
                pipe.multi()
                pipe.set(key, self._owner, ex=CLAIM_SECONDS)
                pipe.execute()
                return True
            except redis.exceptions.WatchError:
                return False

    def flush(self) -> None:
        self.client().flushdb()

    def release(self) -> None:
        if self.number is None:
            return
        self.flush()
        control = _client(self.base_url, 0)
        key = f"{CLAIM_PREFIX}{self.number}"
        if (control.get(key) or b"").decode() == self._owner:
            control.delete(key)
        self.number = None


class RQWorker:
    """``manage.py rqworker --with-scheduler default`` on the test database and ``redis``.

    The interface of ``tests.harness.worker.TaskWorker`` (``run_batch()``, ``start()``,
    ``stop()``, ``wait_until()``, ``output``, ``extra_env``, ``running``), so that a test
    written for the ``task_worker`` fixture runs on either backend (tests/notifications/conftest.py):

    * ``run_batch()`` runs ``rqworker --burst``: its scheduler first moves the deferred jobs
      that are due to the queue, then the worker runs every queued job (those queued while
      it runs too) and exits, as ``db_worker --batch`` does;
    * ``task_count(path)``: how many jobs of that task Redis holds, in any state.

    ``kill()`` SIGKILLs the worker together with its work horse (RQ runs each job in a forked
    child) and its scheduler process, as when a host dies. ``stop()`` asks for RQ's warm
    shutdown (SIGTERM), then kills what is left. The worker runs in a session of its own.
    """

    backend = "rq"

    def __init__(self, redis: RedisDatabase, log_dir: Path, extra_env: dict[str, str] | None = None) -> None:
        self.redis = redis
        self.log_dir = log_dir
        self.extra_env = extra_env or {}
        self.process: subprocess.Popen | None = None
        self._log_path: Path | None = None
        self.logs: list[Path] = []
        self.output = ""

    def environ(self) -> dict[str, str]:
        return worker_environ({"TASKS_BACKEND": RQ_BACKEND, "REDIS_URL": self.redis.url, **self.extra_env})

    def _command(self, *extra: str) -> list[str]:
        return [sys.executable, str(MANAGE_PY), "rqworker", "--with-scheduler", "--skip-checks", *extra, "default"]

    def run_batch(self, timeout: float = 60.0, max_tasks: int | None = None) -> subprocess.CompletedProcess:
        """``rqworker --burst``: every job that is due, then exit; fails with its output if
        the worker does."""
        extra = ["--burst"]
        if max_tasks is not None:
            extra += ["--max-jobs", str(max_tasks)]
        result = subprocess.run(
            self._command(*extra),
            cwd=BASE_DIR,
            env=self.environ(),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        self.output = result.stdout + result.stderr
        if result.returncode != 0:
            raise AssertionError(f"rqworker --burst exited with {result.returncode}:\n{self.output}")
        return result

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def task_count(self, task_path: str) -> int:
        """How many jobs of the task at ``task_path`` Redis holds (queued, scheduled, running,
        finished or failed)."""
        from rq.job import Job

        client = self.redis.client()
        ids = [key.decode().removeprefix("rq:job:") for key in client.scan_iter("rq:job:*", count=1000)]
        jobs = Job.fetch_many([i for i in ids if ":" not in i], connection=client)
        return sum(1 for job in jobs if job is not None and job.func_name == task_path)

    def start(self, interval: float | None = None) -> RQWorker:
        """A worker in the background (``interval`` is ``TaskWorker``'s polling interval: RQ
        blocks on the queue instead and takes no such option)."""
        if self.process is not None:
            raise RuntimeError("worker already running")
        self._log_path = self.log_dir / f"rqworker-{time.monotonic_ns()}.log"
        self.logs.append(self._log_path)
        with open(self._log_path, "wb") as log:
            self.process = subprocess.Popen(
                self._command(),
                cwd=BASE_DIR,
                env=self.environ(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    def pids(self) -> set[int]:
        """The worker and every process descended from it: its work horse (which RQ puts in a
        session of its own) and its scheduler."""
        if self.process is None:
            return set()
        children: dict[int, list[int]] = {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    fields = (entry / "stat").read_text().rpartition(")")[2].split()
                except OSError:
                    continue
                children.setdefault(int(fields[1]), []).append(int(entry.name))  # field 4, the parent
        found, todo = set(), [self.process.pid]
        while todo:
            pid = todo.pop()
            if pid not in found:
                found.add(pid)
                todo += children.get(pid, [])
        return found

    def kill(self) -> set[int]:
        """SIGKILL the worker and all its descendants at once, as when the host dies; returns
        their PIDs."""
        assert self.process is not None, "not running"
        pids = self.pids()
        process, self.process = self.process, None
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        process.wait(10)
        deadline = time.monotonic() + 10
        while any(_alive(pid) and not _zombie(pid) for pid in pids) and time.monotonic() < deadline:
            time.sleep(0.05)
        return pids

    def stop(self, timeout: float = 20.0) -> None:
        """RQ's warm shutdown (SIGTERM to the worker, which stops its scheduler and waits for
        its horse), then SIGKILL for whatever of it is left."""
        if self.process is None:
            return
        pids = self.pids()
        process, self.process = self.process, None
        if process.poll() is None:
            process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=timeout)
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        process.wait(timeout=5)
        self.output = self.log()

    def wait_until(self, condition, timeout: float = 60.0, interval: float = 0.05, state=None):
        """Poll ``condition()`` until it is truthy and return it; fail with the worker's log
        (and what ``state()`` returns, if given)."""
        deadline = time.monotonic() + timeout
        while True:
            value = condition()
            if value:
                return value
            if self.process is not None and self.process.poll() is not None:
                raise AssertionError(f"rqworker exited with {self.process.returncode}:\n{self.log()}")
            if time.monotonic() >= deadline:
                raise AssertionError(
                    f"condition not met within {timeout} s; {state() if state else ''}\n{self.queues()}\n"
                    f"rqworker log:\n{self.log()}"
                )
            time.sleep(interval)

    def queues(self) -> str:
        """What Redis holds for the queue: queued, running, scheduled (with when), failed."""
        client = self.redis.client()
        scheduled = client.zrange("rq:scheduled:default", 0, -1, withscores=True)
        return (
            f"at {time.time():.1f}: queued {client.lrange('rq:queue:default', 0, -1)}, "
            f"running {client.zrange('rq:wip:default', 0, -1)}, scheduled {scheduled}, "
            f"failed {client.zrange('rq:failed:default', 0, -1)}, "
            f"scheduler lock {client.get('rq:scheduler-lock:default')}"
        )

    def log(self) -> str:
        return "\n".join(path.read_text(errors="replace") for path in self.logs if path.exists())


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] == "Z"
    except OSError:
        return True

