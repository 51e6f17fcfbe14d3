"""``manage.py db_worker`` (django-tasks-db) as a subprocess against the test database."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import warnings
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

BASE_DIR = Path(__file__).resolve().parents[2]
MANAGE_PY = BASE_DIR / "manage.py"


def database_url_for(name: str, base_url: str | None = None) -> str:
    """``base_url`` (default: ``$DATABASE_URL``) with its database name replaced by ``name``."""
    base_url = base_url or os.environ["DATABASE_URL"]
    parts = urlsplit(base_url)
    return urlunsplit(parts._replace(path="/" + quote(name, safe="")))


def worker_environ(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for a child Django process that must see what this test sees.

    The test database name (``test_...``) replaces the one in DATABASE_URL, and the
    live e-mail settings (the test's ``settings`` overrides included, e.g. from
    ``smtp_backend``) are passed on; otherwise a child would use the SMTP default.
    """
    from django.conf import settings
    from django.db import connection

    env = dict(os.environ)
    env["DATABASE_URL"] = database_url_for(connection.settings_dict["NAME"])
    env.update(_email_environ(settings))
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra or {})
    return env


def _email_environ(settings) -> dict[str, str]:
    """EMAIL_* variables (as config/settings.py reads them) for the live default mailer."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Django 6.1 deprecates the EMAIL_* settings
        if hasattr(settings, "MAILERS"):
            mailer = settings.MAILERS.get("default", {})
            options = mailer.get("OPTIONS", {})
            values = {
                "EMAIL_BACKEND": mailer.get("BACKEND", "django.core.mail.backends.smtp.EmailBackend"),
                "EMAIL_HOST": options.get("host"),
                "EMAIL_PORT": options.get("port"),
                "EMAIL_USE_TLS": options.get("use_tls"),
                "EMAIL_HOST_USER": options.get("username"),
                "EMAIL_HOST_PASSWORD": options.get("password"),
            }
        else:
            values = {
                "EMAIL_BACKEND": settings.EMAIL_BACKEND,
                "EMAIL_HOST": settings.EMAIL_HOST,
                "EMAIL_PORT": settings.EMAIL_PORT,
                "EMAIL_USE_TLS": settings.EMAIL_USE_TLS,
                "EMAIL_HOST_USER": settings.EMAIL_HOST_USER,
                "EMAIL_HOST_PASSWORD": settings.EMAIL_HOST_PASSWORD,
            }
    env = {}
    for name, value in values.items():
        if value is None:
            continue
        if isinstance(value, bool):
            value = "1" if value else "0"
        env[name] = str(value)
    return env


class TaskWorker:
    """Runs ``manage.py db_worker`` for one test.

    * ``run_batch()`` runs the worker with ``--batch``: it processes every task that is
      ready and exits; returns the ``CompletedProcess``. Deterministic: prefer it.
    * ``start()`` starts a polling worker in the background (``--interval 0.1``), for
      tests that enqueue while the worker runs; ``stop()`` ends it (SIGTERM, then
      SIGKILL), and the fixture calls it at teardown.
    * ``output`` holds what the last run printed (stdout and stderr together).
    """

    def __init__(self, queues: str = "*", extra_env: dict[str, str] | None = None, log_dir: Path | None = None):
        self.queues = queues
        self.extra_env = extra_env or {}
        self.log_dir = log_dir
        self.process: subprocess.Popen | None = None
        self._log_path: Path | None = None
        self.output = ""
        self.process_returncode: int | None = None

    def _command(self, *extra: str) -> list[str]:
        return [
            sys.executable,
            str(MANAGE_PY),
            "db_worker",
            "--queue-name",
            self.queues,
            "--no-reload",
            "--no-startup-delay",
            "--skip-checks",
            *extra,
        ]

    def run_batch(self, timeout: float = 60.0, max_tasks: int | None = None) -> subprocess.CompletedProcess:
        extra = ["--batch"]
        if max_tasks is not None:
            extra += ["--max-tasks", str(max_tasks)]
        result = subprocess.run(
            self._command(*extra),
            cwd=BASE_DIR,
            env=worker_environ(self.extra_env),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        self.output = result.stdout + result.stderr
        if result.returncode != 0:
            raise AssertionError(f"db_worker --batch exited with {result.returncode}:\n{self.output}")
        return result

    def start(self, interval: float = 0.1) -> TaskWorker:
        if self.process is not None:
            raise RuntimeError("worker already running")
        assert self.log_dir is not None, "start() needs a log_dir"
        self._log_path = self.log_dir / f"db_worker-{time.monotonic_ns()}.log"
        with open(self._log_path, "wb") as log:
            self.process = subprocess.Popen(
                self._command("--interval", str(interval)),
                cwd=BASE_DIR,
                env=worker_environ(self.extra_env),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        return self

    def wait_until(self, condition, timeout: float = 10.0, interval: float = 0.05):
        """Poll ``condition()`` until it returns something truthy (and return that).

        For the background worker: e.g. ``worker.wait_until(lambda: Outbox.objects.filter(sent=True).exists())``.
        Fails with the worker's output if the time runs out or the worker died.
        """
        deadline = time.monotonic() + timeout
        while True:
            value = condition()
            if value:
                return value
            if self.process is not None and self.process.poll() is not None:
                self.stop()
                raise AssertionError(f"db_worker exited with {self.process_returncode}:\n{self.output}")
            if time.monotonic() >= deadline:
                raise AssertionError(f"condition not met within {timeout} s; worker output so far:\n{self._read_log()}")
            time.sleep(interval)

    def _read_log(self) -> str:
        if self._log_path is not None and self._log_path.exists():
            return self._log_path.read_text(errors="replace")
        return self.output

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout: float = 10.0) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        self.process_returncode = process.returncode
        self.output = self._read_log()
