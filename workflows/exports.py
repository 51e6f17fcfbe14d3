"""Exports of the decision log and of the disbursements (issue 9), as CSV and XLSX, streamed.

The rows are read in chunks (`.iterator(chunk_size=…)`, a server-side cursor on
PostgreSQL), so 100 000 of them never sit in memory at once:

* CSV: UTF-8 with a byte-order mark and `;` between the fields, so Swedish Excel opens it
  as it is; amounts with a decimal comma ("385000,00"), dates ISO, times in Stockholm.
  Each chunk of rows is written and sent as it is read (StreamingHttpResponse).
* XLSX: openpyxl in write-only mode writes each row to its temporary file as it comes;
  the finished workbook is a temporary file on disk, sent in blocks (FileResponse). More
  rows than EXPORT_BACKGROUND_ROWS are not built in the request: workflows.export_jobs
  builds them with the same xlsx_file in the task worker, behind a progress page.

A text cell that begins like a formula (=, +, -, @) is written as text, never as a
formula (CSV: with a leading apostrophe; XLSX: as a string cell), so an applicant's words
cannot run in the auditor's spreadsheet.

Every export is recorded first (export_record: who, what, which format, which filters),
in workflows.DataExport, which staff readers read under *Gjorda exporter*.
"""

from __future__ import annotations

import csv
import logging
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from bidrag.models import Decision

from .decision_log import reference_of
from .models import DataExport

logger = logging.getLogger("workflows.exports")

CHUNK_SIZE = 500
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def export_record(*, actor, kind: DataExport.Kind, file_format: DataExport.Format, filters: dict) -> DataExport:
    """Record that `actor` exported `kind` with `filters`, before the first byte is sent."""
    with transaction.atomic():
        record = DataExport.objects.create(kind=kind, file_format=file_format, filters=filters, made_by=actor)
    logger.info("export %s %s by %s with %s", kind, file_format, actor.get_username(), filters)
    return record


def filename(kind: DataExport.Kind, file_format: DataExport.Format, *, on: date | None = None) -> str:
    """`beslutslogg-2026-12-01.xlsx`: what it is and the day it was taken (Stockholm)."""
    return f"{kind}-{(on or timezone.localdate()).isoformat()}.{file_format}"


# --- The columns -----------------------------------------------------------------------


def _person(user) -> str:
    return (user.get_full_name() or user.get_username()) if user is not None else ""


def _local(moment: datetime | None) -> datetime | None:
    """A moment in Stockholm time without its offset: what a spreadsheet can hold."""
    return timezone.localtime(moment).replace(tzinfo=None) if moment is not None else None


def reference_text(decision: Decision) -> str:
    """What a decision refers to, in words: "Rättelse av beslut 2026-11-03 (Beviljad)"."""
    reference = reference_of(decision)
    if reference is None:
        return ""
    on = timezone.localtime(reference.on).date() if isinstance(reference.on, datetime) else reference.on
    day = on.isoformat() if on else ""
    outcome = Decision.Outcome(reference.earlier_outcome).label if reference.earlier_outcome else ""
    if reference.kind == "correction":
        return _("Rättelse av beslut %(day)s (%(outcome)s)") % {"day": day, "outcome": outcome}
    if reference.kind == "reconsideration":
        return _("Omprövning av beslut %(day)s (%(outcome)s)") % {"day": day, "outcome": outcome}
    if reference.kind == "appeal":
        decided = reference.earlier_decided_at
        return _("Överklagande av beslut %(decided)s, inkom %(day)s") % {
            "decided": timezone.localtime(decided).date().isoformat() if decided else "", "day": day}
    return _("Begäran om avgörande %(day)s") % {"day": day}


@dataclass(frozen=True)
class Column:
    header: str
    value: Callable[[Any], object]


def decision_columns() -> list[Column]:
    return [
        Column(_("Diarienummer"), lambda d: d.application.case.diarienummer or ""),
        Column(_("Beslutsdatum"), lambda d: timezone.localtime(d.decided_at).date()),
        Column(_("Utlysning"), lambda d: d.application.call.title),
        Column(_("Stödform"), lambda d: d.application.call.scheme.name),
        Column(_("Inriktning"), lambda d: d.application.track.name if d.application.track_id else ""),
        Column(_("Organisation"), lambda d: d.application.organisation.name),
        Column(_("Län (kod)"), lambda d: (d.application.organisation.kommunkod or "")[:2]),
        Column(_("Beslut"), lambda d: d.get_outcome_display()),
        Column(_("Avser"), reference_text),
        Column(_("Sökt belopp (kr)"), lambda d: d.requested),
        Column(_("Beslutat belopp (kr)"), lambda d: d.amount),
        Column(_("Beslutsfattare"), lambda d: _person(d.decided_by)),
        Column(_("Föredragande"), lambda d: _person(d.presented_by)),
        Column(_("Övriga deltagande"), lambda d: ", ".join(_person(p) for p in d.participants.all())),
        Column(_("Skäl"), lambda d: d.reasons),
    ]


def disbursement_columns() -> list[Column]:
    return [
        Column(_("Diarienummer"), lambda u: u.application.case.diarienummer or ""),
        Column(_("Organisation"), lambda u: u.application.organisation.name),
        Column(_("Betalningsmottagare"), lambda u: u.payee_name),
        Column(_("Konto"), lambda u: u.payee_account_display),
        Column(_("Belopp (kr)"), lambda u: u.amount),
        Column(_("Status"), lambda u: u.get_status_display()),
        Column(_("Förberedd av"), lambda u: _person(u.prepared_by)),
        Column(_("Förberedd"), lambda u: _local(u.prepared_at)),
        Column(_("Attesterad av"), lambda u: _person(u.attested_by)),
        Column(_("Attesterad"), lambda u: _local(u.attested_at)),
        Column(_("Utbetald av"), lambda u: _person(u.paid_by)),
        Column(_("Utbetald"), lambda u: _local(u.paid_at)),
        Column(_("Betalningsreferens"), lambda u: u.payment_reference),
    ]


def rows(queryset: QuerySet, columns: Sequence[Column], *, chunk_size: int = CHUNK_SIZE) -> Iterator[list]:
    """Each row's values, read `chunk_size` rows at a time (prefetches run per chunk)."""
    for item in queryset.iterator(chunk_size=chunk_size):
        yield [column.value(item) for column in columns]


# --- CSV -------------------------------------------------------------------------------


class _Line:
    """csv.writer's file: hands back the line it was given instead of keeping it."""

    def write(self, value: str) -> str:
        return value


def csv_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return f"{value:.2f}".replace(".", ",")
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def csv_lines(header: Sequence[str], values: Iterable[list], *, lines_per_chunk: int = 500) -> Iterator[bytes]:
    """The CSV as UTF-8 bytes, byte-order mark first, a few hundred lines per chunk."""
    writer = csv.writer(_Line(), delimiter=";", lineterminator="\r\n")
    yield ("\ufeff" + writer.writerow(header)).encode("utf-8")
    batch: list[str] = []
    for row in values:
        batch.append(writer.writerow([csv_cell(v) for v in row]))
        if len(batch) >= lines_per_chunk:
            yield "".join(batch).encode("utf-8")
            batch = []
    if batch:
        yield "".join(batch).encode("utf-8")


def csv_response(*, header: Sequence[str], values: Iterable[list], name: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(csv_lines(header, values), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "private, no-store"
    return response


# --- XLSX ------------------------------------------------------------------------------


def xlsx_file(*, header: Sequence[str], values: Iterable[list], title: str):
    """The workbook in a temporary file (rewound), written row by row in write-only mode."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31])
    bold = Font(bold=True)

    def heading(text: str) -> WriteOnlyCell:
        cell = WriteOnlyCell(sheet, value=text)
        cell.font = bold
        return cell

    def cell(value):
        if isinstance(value, Decimal):
            written = WriteOnlyCell(sheet, value=value)
            written.number_format = "#,##0.00"
            return written
        if isinstance(value, datetime):
            written = WriteOnlyCell(sheet, value=value)
            written.number_format = "yyyy-mm-dd hh:mm"
            return written
        if isinstance(value, date):
            written = WriteOnlyCell(sheet, value=value)
            written.number_format = "yyyy-mm-dd"
            return written
        if isinstance(value, str) and value.startswith(FORMULA_START):
            written = WriteOnlyCell(sheet, value=value)
            written.data_type = "s"  # openpyxl reads a leading "=" as a formula
            return written
        return value

    sheet.append([heading(text) for text in header])
    for row in values:
        sheet.append([cell(v) for v in row])
    output = tempfile.TemporaryFile()  # noqa: SIM115 - closed by the response when sent
    workbook.save(output)
    output.seek(0)
    return output


def xlsx_response(*, header: Sequence[str], values: Iterable[list], name: str, title: str) -> FileResponse:
    response = FileResponse(xlsx_file(header=header, values=values, title=title), as_attachment=True,
                            filename=name, content_type=XLSX_CONTENT_TYPE)
    response["Cache-Control"] = "private, no-store"
    return response


def export_response(*, kind: DataExport.Kind, file_format: DataExport.Format, queryset: QuerySet,
                    columns: Sequence[Column], title: str):
    header = [column.header for column in columns]
    name = filename(kind, file_format)
    values = rows(queryset, columns)
    if file_format == DataExport.Format.XLSX:
        return xlsx_response(header=header, values=values, name=name, title=title)
    return csv_response(header=header, values=values, name=name)
