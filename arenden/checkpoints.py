"""Journal checkpoints: every chain's head, signed, kept outside the database.

`manage.py journal_checkpoint` verifies the journal, then writes one JSON object to S3
under a fresh key (head_object first, then a conditional PUT, `If-None-Match: *`, so an
existing object is never overwritten) and records it in `JournalCheckpoint`. The object
holds, per chain, (case id, diarienummer, seq, head hash) and a few hex digits of every
event's hash up to that seq; the diarienummer counter per year; a Merkle root over the
(case, seq, head) leaves; the previous checkpoint's key and root; and an HMAC-SHA256
signature under `JOURNAL_CHECKPOINT_KEY` over all of it.

Where the bucket has S3 Object Lock (SeaweedFS 4.48 has it for buckets created with
object lock enabled, which also turns on versioning), the object gets COMPLIANCE
retention for JOURNAL_CHECKPOINT_RETENTION_DAYS: a PUT to the same key only adds a newer
version and a DELETE only a delete marker, while deleting the locked version itself is
refused (AccessDenied). A bucket without object lock refuses a PUT asking for retention
(InvalidRequest); the object is then written without it and the row says so.

`verify_journal` holds every chain against the latest checkpoint: a chain may only have
grown since (the same hash at the checkpointed seq), a checkpointed case must still
exist, and no year's serial counter may have gone back.
"""

import hashlib
import hmac
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from botocore.exceptions import ClientError
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.utils import timezone

from .models import DiarieSerial, JournalCheckpoint, JournalEvent
from .verification import PREFIX_CHARS, ChainScan, Finding, case_heads, chain_findings, chains_scan, serial_gaps

FORMAT = "bidrag-journal-checkpoint/1"


class CheckpointRefused(Exception):
    """The journal did not verify: a checkpoint would vouch for what was found."""

    def __init__(self, findings: list[Finding]):
        super().__init__(f"{len(findings)} finding(s)")
        self.findings = findings


def _key() -> bytes:
    key = settings.JOURNAL_CHECKPOINT_KEY
    if not key:
        raise ImproperlyConfigured(
            "JOURNAL_CHECKPOINT_KEY must be set: journal checkpoints are signed and checked with it "
            "(a long random secret, kept apart from the database)."
        )
    return str(key).encode()


def _s3():
    bucket = settings.JOURNAL_CHECKPOINT_BUCKET
    connection_ = getattr(default_storage, "connection", None)
    if not bucket or connection_ is None:
        raise ImproperlyConfigured(
            "Journal checkpoints are written to S3: set AWS_STORAGE_BUCKET_NAME (or JOURNAL_CHECKPOINT_BUCKET)."
        )
    return connection_.meta.client, bucket


def _canonical(value) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def merkle_root(chains: list[list]) -> str:
    """Root over the leaves (case id, seq, head) in case-id order; an odd node moves up."""
    level = [hashlib.sha256(b"\x00" + f"{c[0]}:{c[2]}:{c[3]}".encode()).digest() for c in chains]
    if not level:
        return hashlib.sha256(b"").hexdigest()
    while len(level) > 1:
        paired = [hashlib.sha256(b"\x01" + level[i] + level[i + 1]).digest() for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0].hex()


def sign(body: dict) -> str:
    return hmac.new(_key(), _canonical(body), hashlib.sha256).hexdigest()


def _document(scan: ChainScan, cases: dict, previous: JournalCheckpoint | None, created_at: datetime) -> dict:
    chains = [
        [case_id, cases[case_id][0], seq, head, scan.prefixes.get(case_id, "")]
        for case_id, (seq, head) in sorted(scan.ends.items())
    ]
    return {
        "format": FORMAT,
        "created_at": created_at.isoformat(timespec="microseconds"),
        "previous": {"key": previous.object_key, "merkle_root": previous.merkle_root} if previous else None,
        "event_count": scan.event_count,
        "serials": {str(year): last for year, last in DiarieSerial.objects.values_list("year", "last_serial")},
        "merkle_root": merkle_root(chains),
        "chains": chains,
    }


@dataclass(frozen=True)
class Audit:
    findings: list[Finding]
    event_count: int
    checkpoint: JournalCheckpoint | None
    checkpoint_chains: int
    scan: ChainScan
    cases: dict


def _in_snapshot(read):
    """Run `read` in one REPEATABLE READ snapshot where it can have one, so an append
    between reading the events and the cases' heads is not taken for tampering."""
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            return read()
    return read()


def journal_audit(*, prefixes: bool = False) -> Audit:
    """Everything verify_journal checks: chains, heads, the latest checkpoint, serials."""
    return _in_snapshot(lambda: _audit(prefixes))


def _audit(prefixes: bool) -> Audit:
    findings: list[Finding] = []
    checkpoint, document = _latest_checkpoint(findings)
    marks = {c[0]: c[2] for c in document["chains"]} if document else None
    scan = chains_scan(marks=marks, prefixes=prefixes)
    cases = case_heads()
    findings.extend(Finding(link.case_id, link.diarienummer, link.seq, link.reason) for link in chain_findings(scan, cases))
    if document:
        assert checkpoint is not None
        findings.extend(_against_checkpoint(scan, cases, document, checkpoint.object_key))
    at_least = {int(year): last for year, last in document["serials"].items()} if document else None
    findings.extend(serial_gaps(at_least=at_least))
    return Audit(findings, scan.event_count, checkpoint, len(marks or ()), scan, cases)


def _latest_checkpoint(findings: list[Finding]) -> tuple[JournalCheckpoint | None, dict | None]:
    """The newest checkpoint, read back from S3 and its signature checked.

    S3 is listed after the newest recorded key too: an object there without its row means
    the row was removed, and the object (signed, kept outside) is what counts.
    """
    recorded = JournalCheckpoint.objects.order_by("-created_at").first()
    if recorded is None and not settings.JOURNAL_CHECKPOINT_BUCKET:
        return None, None
    client, bucket = _s3()
    prefix = settings.JOURNAL_CHECKPOINT_PREFIX
    newer: list[str] = []
    for page in client.get_paginator("list_objects_v2").paginate(
        Bucket=bucket, Prefix=prefix, StartAfter=recorded.object_key if recorded else ""
    ):
        newer.extend(item["Key"] for item in page.get("Contents", ()))
    if newer:
        latest_key = max(newer)
        findings.append(
            Finding(None, None, None, f"checkpoint {latest_key} is in S3 but not recorded in the database (its row was removed?)")
        )
        checkpoint = JournalCheckpoint(bucket=bucket, object_key=latest_key)
    elif recorded is None:
        return None, None
    else:
        checkpoint = recorded
    try:
        raw = client.get_object(Bucket=checkpoint.bucket, Key=checkpoint.object_key)["Body"].read()
    except ClientError as exc:
        findings.append(Finding(None, None, None, f"checkpoint {checkpoint.object_key} cannot be read from S3: {exc}"))
        return checkpoint, None
    stored = json.loads(raw)
    signature = stored.pop("signature", "")
    if not hmac.compare_digest(sign(stored), signature):
        findings.append(
            Finding(None, None, None, f"checkpoint {checkpoint.object_key}: the signature does not verify (altered, or another key)")
        )
        return checkpoint, None
    if merkle_root(stored["chains"]) != stored["merkle_root"]:
        findings.append(Finding(None, None, None, f"checkpoint {checkpoint.object_key}: the Merkle root does not match its chains"))
        return checkpoint, None
    if checkpoint is recorded and (checkpoint.merkle_root, checkpoint.signature) != (stored["merkle_root"], signature):
        findings.append(Finding(None, None, None, f"checkpoint {checkpoint.object_key}: the database's record differs from the object"))
    previous = stored.get("previous")
    if previous and not JournalCheckpoint.objects.filter(object_key=previous["key"], merkle_root=previous["merkle_root"]).exists():
        findings.append(
            Finding(None, None, None, f"checkpoint {checkpoint.object_key} follows {previous['key']}, which is not recorded")
        )
    return checkpoint, stored


def _against_checkpoint(scan: ChainScan, cases: dict, document: dict, key: str) -> list[Finding]:
    broken = {link.case_id for link in scan.broken}
    findings: list[Finding] = []
    for case_id, diarienummer, seq, head, prefixes in document["chains"]:
        if case_id not in cases:
            findings.append(
                Finding(case_id, diarienummer, None, f"the case is in checkpoint {key} (journal at event {seq}) but no longer exists")
            )
            continue
        if case_id in broken:
            continue  # its first broken link is reported already
        diarienummer = cases[case_id][0] or diarienummer
        end_seq = scan.ends.get(case_id, (0, ""))[0]
        if end_seq >= seq and scan.marked.get(case_id) == head:
            continue  # unchanged up to the checkpoint, perhaps grown since
        first = _first_divergence(case_id, min(seq, end_seq), prefixes)
        if first is not None or end_seq >= seq:
            first = first or seq
            reason = f"event {first} differs from checkpoint {key} (the chain was rewritten from there)"
        else:
            first = end_seq + 1
            reason = f"the journal ends at event {end_seq}, but checkpoint {key} has it at event {seq} (events were removed)"
        findings.append(Finding(case_id, diarienummer, first, reason))
    return findings


def _first_divergence(case_id: str, upto: int, prefixes: str) -> int | None:
    """The first event up to `upto` whose hash digits differ from the checkpoint's."""
    hashes = JournalEvent.objects.filter(case_id=case_id, seq__lte=upto).order_by("seq").values_list("hash", flat=True)
    for index, digest in enumerate(hashes):
        if digest[:PREFIX_CHARS] != prefixes[index * PREFIX_CHARS : (index + 1) * PREFIX_CHARS]:
            return index + 1
    return None


def journal_checkpoint_create() -> JournalCheckpoint:
    """Verify the journal, then write and record a checkpoint of it. Refuses (and writes
    nothing) if verification finds anything: a checkpoint must not vouch for tampering."""
    _key()  # before the scan: a missing key is said at once
    client, bucket = _s3()
    created_at = timezone.now().astimezone(UTC)

    def read() -> tuple[Audit, dict]:
        audit = _audit(prefixes=True)
        return audit, _document(audit.scan, audit.cases, audit.checkpoint, created_at)

    audit, document = _in_snapshot(read)
    if audit.findings:
        raise CheckpointRefused(audit.findings)
    signature = sign(document)
    body = _canonical({**document, "signature": signature})
    key = f"{settings.JOURNAL_CHECKPOINT_PREFIX}{created_at:%Y%m%dT%H%M%S%fZ}-{uuid.uuid4().hex}.json"
    try:
        client.head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") not in ("404", "NoSuchKey", "NotFound"):
            raise
    else:
        raise RuntimeError(f"{key} exists already in S3: a checkpoint is never overwritten")
    put = {"Bucket": bucket, "Key": key, "Body": body, "ContentType": "application/json", "IfNoneMatch": "*"}
    lock_mode, retain_until = "", None
    if settings.JOURNAL_CHECKPOINT_RETENTION_DAYS > 0 and _has_object_lock(client, bucket):
        retain_until = created_at + timedelta(days=settings.JOURNAL_CHECKPOINT_RETENTION_DAYS)
        put.update(ObjectLockMode="COMPLIANCE", ObjectLockRetainUntilDate=retain_until)
    answer = client.put_object(**put)
    if retain_until is not None:
        retention = client.get_object_retention(Bucket=bucket, Key=key)["Retention"]
        lock_mode, retain_until = retention.get("Mode", ""), retention.get("RetainUntilDate")
    with transaction.atomic():
        return JournalCheckpoint.objects.create(
            created_at=created_at,
            bucket=bucket,
            object_key=key,
            version_id=answer.get("VersionId") or "",
            merkle_root=document["merkle_root"],
            signature=signature,
            chain_count=len(document["chains"]),
            event_count=audit.event_count,
            lock_mode=lock_mode,
            retain_until=retain_until,
        )


def _has_object_lock(client, bucket: str) -> bool:
    try:
        answer = client.get_object_lock_configuration(Bucket=bucket)
    except ClientError:
        return False
    return answer.get("ObjectLockConfiguration", {}).get("ObjectLockEnabled") == "Enabled"
