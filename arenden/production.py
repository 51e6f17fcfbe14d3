"""Producing a case's allmänna handlingar on request (TF 2 kap.), after a secrecy review (OSL).

Staff tick, item by item, what is released, what is withheld (with the reason and the
provision of offentlighets- och sekretesslagen it rests on) and what is released with parts
masked (a masked copy is given; the original never leaves). The production is one ZIP: the
released documents, byte for byte as stored, and the cover list (*Förteckning*, PDF and CSV)
that names every item of the case, a withheld one with its ground and never its content.

The ZIP is built in a temporary file (a case may hold many large attachments), stored in
object storage under a key of its own that is never overwritten (``productions/<case>/<id>.zip``,
``If-None-Match: *``, as decision letters are), and its SHA-256 is journaled with who, when,
to whom and what was released or withheld. Storing beats regenerating: what was handed out is
kept exactly, whatever happens to the case's documents later, and the download is checked
against the journal's hash. Every read of storage happens before any row is locked
(DESIGN.md §3); the journal event is written afterwards, under the case's lock.

Generic case handling: the caller (workflows.production) says what a case's items are.
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
import os
import re
import tempfile
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import IO

from django.core.files import File
from django.core.files.storage import default_storage
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from .actors import Actor
from .errors import ServiceError, ValidationFailed
from .formatting import iso_day, moment
from .journal import CaseEvent, journal_append
from .models import Case, JournalEvent
from .storage import _unavailable_on_failure, is_s3, object_chunks

logger = logging.getLogger(__name__)

PREFIX = "productions"
_CHUNK = 1024 * 1024
COVER_PDF = "forteckning.pdf"
COVER_CSV = "forteckning.csv"
FOLDER = "handlingar"


class Release(StrEnum):
    """What is done with one item (TF 2 kap. 15 §, OSL 12 kap. 1 § on masking)."""

    RELEASE = "lamnas-ut"
    REDACT = "maskeras"
    WITHHOLD = "lamnas-inte-ut"


RELEASE_LABELS = {
    Release.RELEASE: _("Lämnas ut"),
    Release.REDACT: _("Lämnas ut med maskering"),
    Release.WITHHOLD: _("Lämnas inte ut"),
}


@dataclass(frozen=True)
class ProductionFile:
    """One file of an item: a stored object (checked against its recorded SHA-256 as it is
    read) or content drawn up now (a tjänsteanteckning's text, the application as sent),
    given or rendered when the item is released."""

    name: str
    storage_name: str = ""
    sha256: str = ""
    content: bytes | None = None
    # Drawn up only when the item is released (a PDF costs a moment to render).
    render: Callable[[], bytes] | None = field(default=None, compare=False)


@dataclass(frozen=True)
class ProductionItem:
    """An item of the case as the cover list names it. `key` is stable across requests
    ("diarium-<uuid>", "bilaga-<uuid>", …) and names the item's fields on the page."""

    key: str
    kind: str
    description: str
    entry_date: date | None = None
    direction: str = ""
    counterpart: str = ""
    secrecy: str = ""  # the sekretessmarkering: such an item is withheld unless staff decide otherwise
    files: tuple[ProductionFile, ...] = ()

    @property
    def default_release(self) -> Release:
        return Release.WITHHOLD if self.secrecy else Release.RELEASE


@dataclass
class ItemChoice:
    release: Release
    ground: str = ""  # the provision: "OSL 21 kap. 7 §"
    reason: str = ""
    masked_copy: IO[bytes] | None = None  # the masked copy handed out instead of the original
    masked_name: str = ""


@dataclass
class Produced:
    """A built ZIP in a temporary file; close() removes it."""

    file: IO[bytes]
    sha256: str
    size: int
    rows: list[dict] = field(default_factory=list)

    def close(self) -> None:
        self.file.close()


class DocumentAltered(ServiceError):
    """A stored document no longer has the SHA-256 recorded for it: nothing is produced."""

    http_status = 500

    def __init__(self, name: str):
        super().__init__(_("Handlingen %(name)s i arkivet stämmer inte med det som registrerades. Inget har "
                           "lämnats ut; kontakta systemförvaltningen.") % {"name": name})


class ProductionAltered(ServiceError):
    http_status = 500

    def __init__(self):
        super().__init__(_("Det sparade utlämnandet stämmer inte med kontrollsumman i journalen."))


def choices_check(items: Sequence[ProductionItem], choices: dict[str, ItemChoice]) -> None:
    """Refuse unless every item has a choice and every withholding or masking has its
    reason and its provision (TF 2 kap. 16 §: a refusal states its grounds)."""
    problems: dict[str, list] = {}
    missing = [item for item in items if item.key not in choices]
    if missing:
        raise ValidationFailed(_("Ärendet har fått nya handlingar sedan sidan öppnades. Pröva dem och försök igen."))
    for item in items:
        choice = choices[item.key]
        if choice.release == Release.RELEASE:
            continue
        if not choice.reason.strip():
            problems[f"{item.key}-reason"] = [
                _("Ange skälet till att handlingen inte lämnas ut.") if choice.release == Release.WITHHOLD
                else _("Ange vad som maskeras och varför.")
            ]
        if not choice.ground.strip():
            problems[f"{item.key}-ground"] = [
                _("Ange den bestämmelse sekretessen grundas på, till exempel ”OSL 21 kap. 7 §”.")
            ]
        elif len(choice.ground.strip()) > 200:
            problems[f"{item.key}-ground"] = [_("Högst %(limit)s tecken.") % {"limit": 200}]
        if choice.release == Release.REDACT and choice.masked_copy is None:
            problems[f"{item.key}-masked_copy"] = [
                _("Bifoga den maskerade kopian: originalet lämnas aldrig ut när delar av det är sekretessbelagda.")
            ]
    if problems:
        raise ValidationFailed(_("Utlämnandet kunde inte göras. Rätta uppgifterna nedan."), details={"fields": problems})


_UNSAFE = re.compile(r"[^\w.\- ]+", re.UNICODE)


def _safe(name: str) -> str:
    cleaned = _UNSAFE.sub("_", name).strip(" .") or "handling"
    return cleaned[:120]


def _object_chunks(name: str) -> Iterator[bytes]:
    return object_chunks(name, chunk_size=_CHUNK)


def _write(archive: zipfile.ZipFile, info: zipfile.ZipInfo, chunks) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with archive.open(info, "w", force_zip64=True) as target:
        for chunk in chunks:
            digest.update(chunk)
            size += len(chunk)
            target.write(chunk)
    return digest.hexdigest(), size


def _entry(name: str, when: datetime) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=timezone.localtime(when).timetuple()[:6])
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    return info


def _upload_chunks(upload: IO[bytes]) -> Iterator[bytes]:
    upload.seek(0)
    chunks = getattr(upload, "chunks", None)
    if chunks is not None:
        yield from chunks(_CHUNK)
        return
    while chunk := upload.read(_CHUNK):
        yield chunk


def zip_build(*, case: Case, items: Sequence[ProductionItem], choices: dict[str, ItemChoice], recipient: str,
              produced_by: str, produced_at: datetime) -> Produced:
    """The ZIP in a temporary file: every released document as stored (each checked against
    its recorded SHA-256 while it is copied), masked copies for masked items, and the cover
    list naming every item. Reads object storage: call it before any lock is taken."""
    choices_check(items, choices)
    target = tempfile.TemporaryFile(prefix="utlamnande-", suffix=".zip")  # noqa: SIM115 - Produced closes it
    rows: list[dict] = []
    try:
        # The cover list is the agency's document: Swedish, whatever the producer's language.
        with translation.override("sv"), zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED,
                                                         allowZip64=True) as archive:
            for number, item in enumerate(items, start=1):
                choice = choices[item.key]
                written: list[dict] = []
                if choice.release == Release.RELEASE:
                    for index, part in enumerate(item.files, start=1):
                        name = f"{FOLDER}/{number:03d}-{index}-{_safe(part.name)}"
                        if part.content is not None or part.render is not None:
                            content = part.content if part.content is not None else (
                                part.render() if part.render is not None else b"")
                            digest, size = _write(archive, _entry(name, produced_at), [content])
                        else:
                            digest, size = _write(archive, _entry(name, produced_at), _object_chunks(part.storage_name))
                        if part.sha256 and digest != part.sha256:
                            logger.error("stored document %s differs from its recorded SHA-256", part.storage_name)
                            raise DocumentAltered(part.name)
                        written.append({"name": name, "sha256": digest, "size": size})
                elif choice.release == Release.REDACT and choice.masked_copy is not None:
                    name = f"{FOLDER}/{number:03d}-maskerad-{_safe(choice.masked_name or item.description)}"
                    digest, size = _write(archive, _entry(name, produced_at), _upload_chunks(choice.masked_copy))
                    written.append({"name": name, "sha256": digest, "size": size})
                rows.append(_cover_row(number, item, choice, written))
            csv_bytes = _cover_csv(rows)
            pdf_bytes = _cover_pdf(case=case, rows=rows, recipient=recipient, produced_by=produced_by,
                                   produced_at=produced_at)
            _write(archive, _entry(COVER_PDF, produced_at), [pdf_bytes])
            _write(archive, _entry(COVER_CSV, produced_at), [csv_bytes])
        whole, size = hashlib.sha256(), 0
        target.seek(0)
        while chunk := target.read(_CHUNK):
            whole.update(chunk)
            size += len(chunk)
        target.seek(0)
        return Produced(file=target, sha256=whole.hexdigest(), size=size, rows=rows)
    except BaseException:
        target.close()
        raise


def _cover_row(number: int, item: ProductionItem, choice: ItemChoice, written: list[dict]) -> dict:
    """One line of the cover list. A withheld item shows what kind of item it is, its date,
    direction and ground, never its sender/recipient or description: these may themselves be
    what secrecy protects (as in the public diarium, OSL 5 kap. 1 § fjärde stycket)."""
    withheld = choice.release == Release.WITHHOLD
    return {
        "number": number,
        "item": item.key,
        "date": iso_day(item.entry_date) if item.entry_date else "",
        "kind": item.kind,
        "direction": item.direction,
        "counterpart": "" if withheld or item.secrecy else item.counterpart,
        "description": str(_("Uppgift omfattas av sekretess")) if withheld or item.secrecy else item.description,
        "release": choice.release.value,
        "release_label": str(RELEASE_LABELS[choice.release]),
        "ground": choice.ground.strip() if choice.release != Release.RELEASE else "",
        "reason": choice.reason.strip() if choice.release != Release.RELEASE else "",
        "files": written,
    }


CSV_HEADER = ("Nr", "Datum", "Typ av handling", "Riktning", "Avsändare/mottagare", "Beskrivning", "Prövning",
              "Bestämmelse", "Skäl", "Filer i utlämnandet", "SHA-256")


def _cover_csv(rows: list[dict]) -> bytes:
    """UTF-8 with BOM, semicolons: what a spreadsheet in Swedish opens as it is (as the exports)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for row in rows:
        writer.writerow([
            row["number"], row["date"], row["kind"], row["direction"], row["counterpart"], row["description"],
            row["release_label"], row["ground"], row["reason"], " | ".join(f["name"] for f in row["files"]),
            " | ".join(f["sha256"] for f in row["files"]),
        ])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _cover_pdf(*, case: Case, rows: list[dict], recipient: str, produced_by: str, produced_at: datetime) -> bytes:
    from weasyprint import HTML  # imported here: loading Pango costs ~0.3 s

    html = render_to_string("arenden/production_cover.html", {
        "case": case, "rows": rows, "recipient": recipient, "produced_by": produced_by,
        "produced_at": moment(produced_at, language="sv"),
    })
    return HTML(string=html).write_pdf()  # the title comes from the template's <title>


def production_key(*, case_id, production_id) -> str:
    return f"{PREFIX}/{case_id}/{production_id}.zip"


class ProductionExists(RuntimeError):
    """An object is already stored under the key: a production is never overwritten."""


def production_store(*, key: str, produced: Produced) -> None:
    """Store the ZIP under ``key``, never over an object already there, streamed from its
    temporary file. Touches no database row: call it before any lock is taken."""
    produced.file.seek(0)
    with _unavailable_on_failure("document", key):
        if is_s3(default_storage):
            from botocore.exceptions import ClientError

            client = default_storage.connection.meta.client  # type: ignore[attr-defined]
            try:
                client.put_object(
                    Bucket=default_storage.bucket_name,  # type: ignore[attr-defined]
                    Key=default_storage._normalize_name(key),  # type: ignore[attr-defined]
                    Body=produced.file, ContentLength=produced.size, ContentType="application/zip",
                    IfNoneMatch="*",
                )
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") == "PreconditionFailed":
                    raise ProductionExists(key) from exc
                raise
            return
        if default_storage.exists(key):
            raise ProductionExists(key)
        stored = default_storage.save(key, File(produced.file, name=key))
    if stored != key:
        production_discard(key=stored)
        raise RuntimeError(f"storage renamed {key} to {stored}")


def production_discard(*, key: str) -> None:
    """Remove a stored ZIP whose journal event was never written; best effort."""
    try:
        default_storage.delete(key)
    except Exception:
        logger.warning("could not remove the unrecorded production %s", key, exc_info=True)


def production_record(*, actor: Actor, case: Case, state: str, production_id, key: str, produced: Produced,
                      recipient: str) -> JournalEvent:
    """Journal the production on the case: who (the event's actor), when, to whom (free text;
    empty when the requester stays anonymous, TF 2 kap. 18 §), each item's outcome with its
    ground, and the ZIP's key and SHA-256. Runs inside the caller's transaction, which holds
    the case's lock. Not a change of state: from and to are the case's state as it is."""
    rows = produced.rows
    return journal_append(
        actor=actor, case=case, action=CaseEvent.PRODUCE_DOCUMENTS, from_state=state, to_state=state,
        payload={
            "production": production_id,
            "recipient": recipient.strip(),
            "anonymous": not recipient.strip(),
            "object_key": key,
            "sha256": produced.sha256,
            "size": produced.size,
            "released": [r["item"] for r in rows if r["release"] == Release.RELEASE],
            "redacted": [r["item"] for r in rows if r["release"] == Release.REDACT],
            "withheld": [r["item"] for r in rows if r["release"] == Release.WITHHOLD],
            "items": [
                {"number": r["number"], "item": r["item"], "kind": r["kind"], "release": r["release"],
                 "ground": r["ground"], "reason": r["reason"],
                 "files": [{"name": f["name"], "sha256": f["sha256"]} for f in r["files"]]}
                for r in rows
            ],
        },
    )


def productions_of(*, case_id):
    """The case's productions, newest first, as their journal events."""
    return (JournalEvent.objects.filter(case_id=case_id, action=CaseEvent.PRODUCE_DOCUMENTS)
            .select_related("actor").order_by("-seq"))


def production_event(*, case_id, production_id) -> JournalEvent | None:
    return productions_of(case_id=case_id).filter(payload__production=str(production_id)).first()


def production_open(event: JournalEvent) -> IO[bytes]:
    """The stored ZIP in a temporary file, refused unless its SHA-256 is the journal's."""
    payload = event.payload or {}
    target = tempfile.TemporaryFile(prefix="utlamnande-", suffix=".zip")  # noqa: SIM115 - the response closes it
    try:
        digest = hashlib.sha256()
        for chunk in _object_chunks(payload["object_key"]):
            digest.update(chunk)
            target.write(chunk)
        if digest.hexdigest() != payload.get("sha256"):
            logger.error("production %s differs from its journaled SHA-256", payload["object_key"])
            raise ProductionAltered()
        target.seek(0)
        return target
    except BaseException:
        target.close()
        raise


def productions_orphans_remove(*, older_than: timedelta, dry_run: bool = False) -> tuple[int, int]:
    """Remove stored ZIPs under productions/ that no journal event records (a process that
    died between the upload and the commit), once older than ``older_than``: a copy of a
    case's documents is never kept without the record of whom it was for. Returns (objects
    checked, objects removed, or that would be with ``dry_run``)."""
    cutoff = timezone.now() - older_than
    checked, candidates = 0, []
    for name, modified in _production_objects():
        checked += 1
        if modified < cutoff:
            candidates.append(name)
    removed = 0
    for start in range(0, len(candidates), 1000):
        batch = candidates[start:start + 1000]
        recorded = set(JournalEvent.objects.filter(action=CaseEvent.PRODUCE_DOCUMENTS, payload__object_key__in=batch)
                       .values_list("payload__object_key", flat=True))
        for name in batch:
            if name in recorded:
                continue
            logger.info("%s unrecorded production %s", "would remove" if dry_run else "removing", name)
            if not dry_run:
                production_discard(key=name)
            removed += 1
    return checked, removed


def _production_objects() -> Iterator[tuple[str, datetime]]:
    if is_s3(default_storage):
        location = default_storage.location.strip("/")  # type: ignore[attr-defined]
        root = f"{location}/" if location else ""
        client = default_storage.connection.meta.client  # type: ignore[attr-defined]
        paginator = client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=default_storage.bucket_name,  # type: ignore[attr-defined]
                                       Prefix=f"{root}{PREFIX}/"):
            for entry in page.get("Contents", ()):
                yield entry["Key"][len(root):], entry["LastModified"]
        return
    base = Path(default_storage.path(""))
    for directory, _subdirs, files in os.walk(base / PREFIX):
        for filename in files:
            path = Path(directory, filename)
            yield path.relative_to(base).as_posix(), datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
