"""Benchmark (`make bench PYTEST_ARGS="-k upload"`, not part of `make test`): a 20 MiB
attachment through the attachment view next to a raw boto3 ``put_object`` of the same
bytes to the same SeaweedFS bucket (issue 6).

The view is measured both ways a browser sends to it: as the page's script does (the
file is the request body, one PUT on to S3 as it arrives; static/js/upload.js) and as the
plain form does without JavaScript (multipart/form-data, parts of 5 MiB to S3 as they
arrive). The floor applies to the script's way, the one the page uses; the form's ratio
is printed beside it. The raw put is botocore's default (the body hashed for the
signature); the view hashes every byte once too, for the attachment's SHA-256.

The view runs in a real gunicorn (tests/harness/server.py) with one worker process and
one thread, so the server process measured is the one that handles every upload. The
client is ``http.client`` (tests/bench/browser.py), logged in as a member of the draft's
organisation; the multipart body is built before the clock starts, as the raw bytes are.
View upload and raw put alternate, RUNS of each, after a warm-up of both.

It prints the medians, the throughput ratio (view/raw: raw time over view time) and the
worker's resident memory: its peak growth during each timed upload (VmHWM reset through
``/proc/<pid>/clear_refs`` before the upload and read after it, against VmRSS before it;
sampled every 2 ms instead where clear_refs cannot be written), and all told over every
20 MiB upload from a baseline taken after one small upload (which builds the S3 client).
The latter includes what the first large upload makes once and keeps: the thread's part
buffer (ATTACHMENT_UPLOAD_PART_BYTES) and botocore's multipart operations.

It ASSERTS the ratio is at least VIEW_RAW_FLOOR, the growth during an upload below
RSS_GROWTH_CEILING ("flat memory": a 20 MiB upload does not grow the process), and the
growth all told below ONCE_CEILING (never a copy of the file).

``BENCH_UPLOAD_VIEW=streamed`` measures the test URLconf's copy of the view wired to
arenden.uploads (tests/arenden/upload_urls.py) instead of ``bidrag:attachment_upload``.
"""

from __future__ import annotations

import os
import statistics
import threading
import time
import uuid
from pathlib import Path

import pytest
from django.urls import reverse

from arenden.models import Attachment
from arenden.uploads import IN_FLIGHT
from tests.harness.server import WebServer

from .browser import Browser, excerpt

pytestmark = pytest.mark.django_db(transaction=True)

UPLOAD_BYTES = 20 * 1024 * 1024
RUNS = int(os.environ.get("BENCH_UPLOAD_RUNS", "9"))  # each, view and raw
# "streamed": the test URLconf's copy of the view wired to arenden.uploads
# (tests/arenden/upload_urls.py), to measure the handler before bidrag's view is wired.
VIEW = os.environ.get("BENCH_UPLOAD_VIEW", "attachment")
WARM_UP = 2
PASSWORD = "uppladdning-2026-lösen"
# Issue 6: at least this share of a raw put's throughput, and flat memory.
VIEW_RAW_FLOOR = 0.8
RSS_GROWTH_CEILING = 8 * 1024 * 1024
MiB = 1024 * 1024
# The part buffers each thread makes once (arenden.uploads: IN_FLIGHT sent, one filling),
# and botocore's first multipart calls: never a copy of a 20 MiB file.
ONCE_CEILING = (IN_FLIGHT + 1) * 5 * MiB + 6 * MiB


def _say(*lines):
    print(*lines, sep="\n", flush=True)


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f} ms"


# -- the server's worker process, from /proc ----------------------------------------------


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces, so split after its ")".
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return found


def _status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


class PeakRSS:
    """The growth of a process's resident set over a block: peak during it minus before it."""

    def __init__(self, pid: int):
        self.pid = pid
        self.method = "VmHWM after clear_refs"
        try:
            Path(f"/proc/{pid}/clear_refs").write_text("5")
        except OSError:
            self.method = "VmRSS sampled every 2 ms"

    def now(self) -> int:
        return _status_kib(self.pid, "VmRSS") * 1024

    def measure(self, block) -> tuple[object, int, int]:
        """(what block() returned, resident bytes before, peak resident bytes during)."""
        if self.method.startswith("VmHWM"):
            Path(f"/proc/{self.pid}/clear_refs").write_text("5")  # VmHWM := VmRSS now
            before = _status_kib(self.pid, "VmRSS")
            result = block()
            peak = _status_kib(self.pid, "VmHWM")
            return result, before * 1024, peak * 1024
        before = _status_kib(self.pid, "VmRSS")
        peak = [before]
        stop = threading.Event()

        def sample():
            while not stop.is_set():
                peak[0] = max(peak[0], _status_kib(self.pid, "VmRSS"))
                stop.wait(0.002)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        try:
            result = block()
        finally:
            stop.set()
            sampler.join(5)
        return result, before * 1024, peak[0] * 1024


# -- the two uploads ------------------------------------------------------------------------


def _multipart(fields: dict[str, str], filename: str, content_type: str, data: bytes) -> tuple[bytes, str]:
    boundary = f"----upload{uuid.uuid4().hex}"
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode() for k, v in fields.items()]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        f"Content-Type: {content_type}\r\n\r\n".encode()
        + data
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


@pytest.fixture
def web_server(transactional_db, tmp_path):
    extra = {"DJANGO_SETTINGS_MODULE": "tests.arenden.upload_settings"} if VIEW == "streamed" else {}
    server = WebServer(log_dir=tmp_path / "gunicorn", workers=1, threads=1, extra_env=extra)
    server.start()
    yield server
    server.stop()


def test_upload_through_the_view_next_to_raw_put(web_server, draft, cast, seaweedfs):
    applicant = cast.applicant
    applicant.set_password(PASSWORD)
    applicant.save(update_fields=["password"])
    [worker] = _children(web_server.process.pid)
    rss = PeakRSS(worker)

    browser = Browser(web_server.base_url)
    browser.log_in(applicant.username, PASSWORD)
    token = browser.csrf_token(browser.get(reverse("bidrag:application_step", args=[draft.pk, "bilagor"])))
    if VIEW == "streamed":
        upload_url, answer = f"/test/streamed-upload/{draft.pk}/", 201
    else:
        upload_url, answer = reverse("bidrag:attachment_upload", args=[draft.pk]), 302
    script_url = reverse("bidrag:attachment_upload", args=[draft.pk])

    data = b"%PDF-1.7\n" + os.urandom(UPLOAD_BYTES - 9)  # incompressible, as a scanned PDF would be
    body, content_type = _multipart(
        {"csrfmiddlewaretoken": token, "kind": "ovrigt"}, "stor-bilaga.pdf", "application/pdf", data
    )
    script_headers = {"X-CSRFToken": token, "X-Upload-Kind": "ovrigt", "X-Upload-Name": "stor-bilaga.pdf",
                      "Accept": "application/json"}
    s3 = seaweedfs.client()
    raw_keys: list[str] = []

    def view_upload() -> float:
        started = time.perf_counter()
        status, location, text = browser.request("POST", upload_url, body=body, content_type=content_type)
        seconds = time.perf_counter() - started
        assert status == answer, f"upload: {status} {location}: {excerpt(text)}"
        return seconds

    def script_upload() -> float:
        started = time.perf_counter()
        status, location, text = browser.request("POST", script_url, body=data, content_type="application/octet-stream",
                                                 headers=script_headers)
        seconds = time.perf_counter() - started
        assert status == 201, f"script upload: {status} {location}: {excerpt(text)}"
        return seconds

    def raw_put() -> float:
        key = f"bench/raw/{uuid.uuid4()}"
        started = time.perf_counter()
        s3.put_object(Bucket=seaweedfs.bucket, Key=key, Body=data, ContentType="application/pdf")
        seconds = time.perf_counter() - started
        raw_keys.append(key)
        return seconds

    # One small upload first: the worker builds its S3 client and loads what an upload
    # needs once in its life; growth is counted from after it.
    small, small_type = _multipart(
        {"csrfmiddlewaretoken": token, "kind": "ovrigt"}, "liten.pdf", "application/pdf", data[:4096]
    )
    status, location, text = browser.request("POST", upload_url, body=small, content_type=small_type)
    assert status == answer, f"small upload: {status} {location}: {excerpt(text)}"
    baseline = rss.now()

    load_before = os.getloadavg()
    peaks = []
    for _ in range(WARM_UP):  # every path once through with the big file (connections, buffers)
        peaks.append(rss.measure(script_upload)[2])
        peaks.append(rss.measure(view_upload)[2])
        raw_put()
    script_times, view_times, raw_times, growths = [], [], [], []
    for _ in range(RUNS):
        for upload, times in ((script_upload, script_times), (view_upload, view_times)):
            seconds, before, peak = rss.measure(upload)
            times.append(seconds)
            growths.append(max(0, peak - before))
            peaks.append(peak)
        raw_times.append(raw_put())
    load_after = os.getloadavg()
    growth = max(0, max(peaks) - baseline)  # what the 20 MiB uploads added to the process, all told

    stored = Attachment.objects.filter(case=draft.case, kind="ovrigt", size=UPLOAD_BYTES)
    assert stored.count() == 2 * (WARM_UP + RUNS)
    for key in raw_keys:
        s3.delete_object(Bucket=seaweedfs.bucket, Key=key)

    script_ms, view_ms, raw_ms = statistics.median(script_times), statistics.median(view_times), statistics.median(raw_times)
    ratio = raw_ms / script_ms  # throughput of the view (as the page sends) over that of the raw put
    form_ratio = raw_ms / view_ms
    _say(
        "",
        "=" * 78,
        f"Upload of {UPLOAD_BYTES // MiB} MiB: {upload_url} (gunicorn, 1 worker x 1 thread) vs raw boto3 put_object",
        f"  same SeaweedFS bucket, alternating, {RUNS} runs each after {WARM_UP} warm-up runs each",
        f"  load average before/after: {load_before[0]:.2f} / {load_after[0]:.2f} (2 cores: others' work skews both)",
        "",
        f"  {'':<38}{'median':>11}{'min':>11}{'max':>11}{'MiB/s':>9}",
        f"  {'view, as the page sends (body, 1 PUT)':<38}{_ms(script_ms)}  {_ms(min(script_times))}"
        f"  {_ms(max(script_times))}{UPLOAD_BYTES / MiB / script_ms:>9.1f}",
        f"  {'view, plain form (multipart, parts)':<38}{_ms(view_ms)}  {_ms(min(view_times))}  {_ms(max(view_times))}"
        f"{UPLOAD_BYTES / MiB / view_ms:>9.1f}",
        f"  {'raw put_object':<38}{_ms(raw_ms)}  {_ms(min(raw_times))}  {_ms(max(raw_times))}"
        f"{UPLOAD_BYTES / MiB / raw_ms:>9.1f}",
        f"  throughput ratio view/raw, as the page sends: {ratio:.3f}   i.e. {script_ms / raw_ms:.2f}x the time"
        f"   (required: >= {VIEW_RAW_FLOOR})",
        f"  throughput ratio view/raw, plain form:        {form_ratio:.3f}   i.e. {view_ms / raw_ms:.2f}x the time"
        "   (no JavaScript; not required)",
        "",
        f"  worker resident memory ({rss.method}), after one small upload: {baseline / MiB:.1f} MiB",
        f"    peak growth over all {2 * (WARM_UP + RUNS)} uploads of {UPLOAD_BYTES // MiB} MiB: {growth / MiB:.1f} MiB"
        f"   (required: < {ONCE_CEILING / MiB:.0f} MiB)",
        f"    growth within each timed upload: median {statistics.median(growths) / MiB:.1f} MiB,"
        f" max {max(growths) / MiB:.1f} MiB   (required: < {RSS_GROWTH_CEILING / MiB:.0f} MiB)",
        "    per run: " + ", ".join(f"{g / MiB:.1f}" for g in growths),
        "=" * 78,
    )
    assert ratio >= VIEW_RAW_FLOOR, f"view/raw throughput {ratio:.3f} < {VIEW_RAW_FLOOR}"
    assert max(growths) < RSS_GROWTH_CEILING, f"the worker grew by {max(growths) / MiB:.1f} MiB during an upload"
    assert growth < ONCE_CEILING, f"the worker grew by {growth / MiB:.1f} MiB over the uploads"
