"""XLSX exports built in the background (issue 9): an export of more rows than
``EXPORT_BACKGROUND_ROWS`` is not built inside the request.

The request records the DataExport as for every export, creates an ExportJob and queues
``export_job_build`` (Django tasks); the person is sent to the job's page, which shows the
progress and, once done, the download. The task builds the workbook with the same
``exports.xlsx_file`` as the direct download, updates ``rows_done`` once per chunk with a
short autocommit UPDATE (no transaction stays open while the workbook is written), stores
the file under a fresh key that is never overwritten, and marks the job done, or failed
with a message in Swedish (the person then starts a new export; a failed job is not run
again). No S3 call is made while a row lock is held: the job rows are only ever updated
with single statements.

Reads go through ``export_job_for``: only the person who made the export, and only while
they still are a staff reader, sees the job; anyone else gets the same 404 as for an id
that does not exist.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
import uuid
from collections.abc import Iterable, Iterator
from functools import partial
from typing import IO

from django.conf import settings
from django.db import transaction
from django.db.models import F, QuerySet
from django.http import Http404
from django.tasks import task
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from arenden.storage import document_put, object_chunks
from bidrag.roles import is_staff_reader

from . import decision_log as log
from . import exports
from .decision_log_forms import DecisionLogForm, DisbursementExportForm
from .models import DataExport, ExportJob

logger = logging.getLogger("workflows.export_jobs")

DEFAULT_BACKGROUND_ROWS = 5000
_READ_CHUNK = 256 * 1024


class ExportAltered(RuntimeError):
    """The stored workbook no longer has the SHA-256 recorded when it was built."""


def background_rows() -> int:
    return int(getattr(settings, "EXPORT_BACKGROUND_ROWS", DEFAULT_BACKGROUND_ROWS))


def export_source(*, actor, kind: DataExport.Kind, filters: dict) -> tuple[QuerySet, list[exports.Column], str]:
    """What an export of `kind` with `filters` holds, as `actor` may read it: the rows in
    their order, the columns and the sheet's title. The same for the request and the task."""
    if kind == DataExport.Kind.DECISIONS:
        form = DecisionLogForm(filters)
        form.is_valid()
        decisions = log.decision_log_rows(log.decision_log(actor=actor, log_filter=form.log_filter()))
        return decisions.order_by(*log.DECISION_LOG_ORDER), exports.decision_columns(), _("Beslutslogg")
    status = DisbursementExportForm(filters).status_value()
    return log.disbursement_log(actor=actor, status=status), exports.disbursement_columns(), _("Utbetalningar")


def is_large(queryset: QuerySet) -> bool:
    """More rows than EXPORT_BACKGROUND_ROWS? Counted no further than one past the limit."""
    limit = background_rows()
    return queryset.order_by()[: limit + 1].count() > limit


def export_job_start(*, actor, record: DataExport) -> ExportJob:
    """The job for the recorded export `record`, queued to be built by the worker."""
    with transaction.atomic():
        job = ExportJob.objects.create(export=record, made_by=actor)
        _enqueue(str(job.pk))
    logger.info("export %s queued as job %s by %s", record.pk, job.pk, actor.get_username())
    return job


def _enqueue(job_id: str) -> None:
    from django_tasks_db.backend import DatabaseBackend

    if isinstance(export_job_build.get_backend(), DatabaseBackend):
        export_job_build.enqueue(job_id)  # its row commits with the job's, or neither does
    else:
        transaction.on_commit(partial(export_job_build.enqueue, job_id), robust=True)


def export_job_for(*, actor, job_id) -> ExportJob:
    """The job, if `actor` made it and may still read exports; otherwise 404."""
    if not is_staff_reader(actor):
        raise Http404
    try:
        return ExportJob.objects.select_related("export").get(pk=job_id, made_by=actor)
    except ExportJob.DoesNotExist:
        raise Http404 from None


# --- The task ----------------------------------------------------------------------------


def _counted(values: Iterable[list], *, job_id, every: int) -> Iterator[list]:
    """The rows as they come, with the job's rows_done moved on once per `every` rows."""
    done = 0
    for row in values:
        yield row
        done += 1
        if done % every == 0:
            ExportJob.objects.filter(pk=job_id).update(rows_done=done)
    ExportJob.objects.filter(pk=job_id).update(rows_done=done)


@task
def export_job_build(job_id: str) -> str:
    """Build the job's workbook, store it under a fresh key, mark the job done (or failed)."""
    started = ExportJob.objects.filter(pk=job_id, status=ExportJob.Status.QUEUED).update(
        status=ExportJob.Status.RUNNING, started_at=timezone.now())
    if not started:
        return "skipped"  # run already, or no such job: nothing is built twice
    job = ExportJob.objects.select_related("export", "made_by").get(pk=job_id)
    try:
        with override(settings.LANGUAGE_CODE):
            queryset, columns, title = export_source(actor=job.made_by, kind=DataExport.Kind(job.export.kind),
                                                     filters=job.export.filters)
            ExportJob.objects.filter(pk=job_id).update(rows_total=queryset.count())
            values = _counted(exports.rows(queryset, columns), job_id=job_id, every=exports.CHUNK_SIZE)
            with exports.xlsx_file(header=[c.header for c in columns], values=values, title=title) as output:
                content = output.read()
        key = f"exports/{job.export.made_at:%Y/%m}/{job.pk}-{uuid.uuid4()}.xlsx"
        document_put(key=key, content=content, content_type=exports.XLSX_CONTENT_TYPE)
    except Exception:
        logger.exception("export job %s failed", job_id)
        with override(settings.LANGUAGE_CODE):
            message = _("Exporten kunde inte skapas. Gör en ny export från beslutsloggen.")
        ExportJob.objects.filter(pk=job_id).update(status=ExportJob.Status.FAILED, error=message,
                                                   finished_at=timezone.now())
        return ExportJob.Status.FAILED
    # A row added after the count is in the file: the total is what was written.
    ExportJob.objects.filter(pk=job_id).update(
        status=ExportJob.Status.DONE, object_key=key, sha256=hashlib.sha256(content).hexdigest(),
        size=len(content), rows_total=F("rows_done"), finished_at=timezone.now())
    logger.info("export job %s done: %s (%d bytes)", job_id, key, len(content))
    return ExportJob.Status.DONE


# --- The download --------------------------------------------------------------------------


def export_job_open(job: ExportJob) -> IO[bytes]:
    """The stored workbook in a temporary file (rewound), read from storage in pieces and
    refused (ExportAltered) unless its SHA-256 is the one recorded when it was built."""
    target = tempfile.TemporaryFile(prefix="export-", suffix=".xlsx")  # noqa: SIM115 - the response closes it
    try:
        digest = hashlib.sha256()
        for chunk in object_chunks(job.object_key, chunk_size=_READ_CHUNK):
            digest.update(chunk)
            target.write(chunk)
        if digest.hexdigest() != job.sha256:
            logger.error("export %s differs from its recorded SHA-256", job.object_key)
            raise ExportAltered(job.object_key)
        target.seek(0)
        return target
    except BaseException:
        target.close()
        raise
