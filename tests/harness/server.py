"""A real WSGI server (gunicorn, ``config.wsgi:application``) on loopback for the test database.

Modelled on ``tests/harness/worker.py``: the child inherits the test process's environment
(the plugin has put ``DATABASE_URL`` and ``AWS_*`` there) with ``DATABASE_URL`` pointing at
the database pytest-django created, and ``DJANGO_SECURE_COOKIES=0`` since it speaks plain
http. Data the server is to see must be committed: use it with ``transactional_db``::

    with WebServer(log_dir=tmp_path) as server:
        urllib.request.urlopen(server.url("/logga-in/"))

The server binds 127.0.0.1 on a free port only, is stopped by its PID (SIGTERM to the
gunicorn master, which stops its workers; SIGKILL if it does not), and logs to ``log_dir``.
"""

from __future__ import annotations

import http.client
import subprocess
import sys
import time
from pathlib import Path

from .ports import LOOPBACK, free_port
from .worker import BASE_DIR, worker_environ


class WebServerError(RuntimeError):
    pass


class WebServer:
    """gunicorn with the gthread worker class (``workers`` processes × ``threads`` threads)."""

    def __init__(
        self,
        *,
        log_dir: Path,
        workers: int = 2,
        threads: int = 4,
        timeout: int = 60,
        extra_env: dict[str, str] | None = None,
        ready_path: str = "/logga-in/",
    ):
        self.log_dir = Path(log_dir)
        self.workers = workers
        self.threads = threads
        self.timeout = timeout
        self.extra_env = extra_env or {}
        self.ready_path = ready_path
        self.host = LOOPBACK
        self.port: int | None = None
        self.process: subprocess.Popen | None = None
        self.startup_seconds: float | None = None
        self.log_path = self.log_dir / "gunicorn.log"
        self.access_log_path = self.log_dir / "gunicorn-access.log"
        self.config_path = self.log_dir / "gunicorn.conf.py"

    # -- addresses --------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    # -- life cycle -------------------------------------------------------------------

    def _command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi:application",
            "--config", str(self.config_path),  # empty: never a gunicorn.conf.py from the working directory
            "--chdir", str(BASE_DIR),
            "--bind", f"{self.host}:{self.port}",
            "--worker-class", "gthread",
            "--workers", str(self.workers),
            "--threads", str(self.threads),
            "--timeout", str(self.timeout),
            "--graceful-timeout", "5",
            "--keep-alive", "5",
            "--worker-tmp-dir", str(self.log_dir),
            "--no-control-socket",  # else a socket in $HOME, shared between runs
            "--error-logfile", "-",
            "--access-logfile", str(self.access_log_path),
            "--access-logformat", '%(h)s "%(r)s" %(s)s %(b)s %(M)sms',
            "--log-level", "info",
        ]

    def _environ(self) -> dict[str, str]:
        env = worker_environ({"DJANGO_SECURE_COOKIES": "0", **self.extra_env})
        env.pop("GUNICORN_CMD_ARGS", None)  # only the options above
        return env

    def start(self, wait: float = 30.0) -> WebServer:
        if self.process is not None:
            raise WebServerError("server already running")
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text("# every option is on the command line (tests/harness/server.py)\n")
        self.port = free_port()
        started = time.monotonic()
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                self._command(),
                cwd=BASE_DIR,
                env=self._environ(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            self._wait_until_ready(wait)
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - started
        return self

    def _wait_until_ready(self, wait: float) -> None:
        deadline = time.monotonic() + wait
        last_error = "no answer yet"
        while True:
            if self.process.poll() is not None:
                raise WebServerError(f"gunicorn exited with {self.process.returncode}:\n{self.read_log()}")
            try:
                conn = http.client.HTTPConnection(self.host, self.port, timeout=5)
                try:
                    conn.request("GET", self.ready_path)
                    status = conn.getresponse().status
                finally:
                    conn.close()
                if status == 200:
                    return
                last_error = f"GET {self.ready_path} answered {status}"
            except OSError as exc:
                last_error = str(exc)
            if time.monotonic() >= deadline:
                raise WebServerError(f"gunicorn did not answer within {wait} s ({last_error}):\n{self.read_log()}")
            time.sleep(0.1)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def read_log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self, timeout: float = 15.0) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        if process.poll() is None:
            process.terminate()  # gunicorn's master stops its workers on SIGTERM
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)

    def __enter__(self) -> WebServer:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()
