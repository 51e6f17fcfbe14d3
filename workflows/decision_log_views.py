"""The decision log (beslutslogg) and its exports, for staff readers: the auditor's landing
page (issue 9). Read-only: nothing here changes a case; an export is recorded
(workflows.DataExport) and listed under *Gjorda exporter*. Anyone who is not Brå staff
gets the same 404 as for a case page.

Thin: parse the filter form, call workflows.decision_log, render or stream (workflows.exports).
"""

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import number_format
from django.views.decorators.http import require_GET, require_safe

from arenden.keyset import count_up_to, keyset_page
from bidrag.roles import is_staff_reader

from . import decision_log as log
from . import export_jobs, exports
from .decision_log_forms import DecisionLogForm, DisbursementExportForm
from .models import DataExport, ExportJob
from .queue_forms import _kommuner
from .views import COUNT_LIMIT, PAGE_SIZES, _page_size, _total

EXPORT_ORDER = ("-made_at", "-id")


def _staff_only(request) -> None:
    if not is_staff_reader(request.user):
        raise Http404


def _file_format(value: str) -> DataExport.Format:
    if value not in DataExport.Format.values:
        raise Http404
    return DataExport.Format(value)


@login_required
@require_safe
def decision_log(request):
    _staff_only(request)
    form = DecisionLogForm(request.GET)
    form.is_valid()
    log_filter = form.log_filter()
    decisions = log.decision_log(actor=request.user, log_filter=log_filter)
    per_page = _page_size(request)
    page = keyset_page(log.decision_log_rows(decisions), ordering=log.DECISION_LOG_ORDER, params=request.GET,
                       size=per_page)
    counties = dict(_kommuner()[0])
    rows = [
        {
            "decision": decision,
            "refers_to": exports.reference_text(decision),
            "letter": log.letter_of(decision),
            "county": counties.get((decision.application.organisation.kommunkod or "")[:2], ""),
        }
        for decision in page
    ]
    return render(
        request,
        "workflows/decision_log.html",
        {
            "form": form,
            "page": page,
            "rows": rows,
            "per_page": per_page,
            "page_sizes": PAGE_SIZES,
            "export_query": urlencode(form.as_params()),
            "disbursement_statuses": DisbursementExportForm().fields["status"].choices,
            **_total(count_up_to(decisions, COUNT_LIMIT, ordering=log.DECISION_LOG_ORDER)),
        },
    )


@login_required
@require_GET  # not HEAD: each request is recorded as an export
def decision_log_export(request, file_format):
    """The log as the page's filters narrow it, every row (not one page), as CSV or XLSX."""
    _staff_only(request)
    form = DecisionLogForm(request.GET)
    form.is_valid()
    return _export(request, kind=DataExport.Kind.DECISIONS, file_format=_file_format(file_format),
                   filters=form.as_params())


@login_required
@require_GET  # not HEAD: each request is recorded as an export
def disbursement_export(request, file_format):
    """Every disbursement (or those in one state), as CSV or XLSX."""
    _staff_only(request)
    return _export(request, kind=DataExport.Kind.DISBURSEMENTS, file_format=_file_format(file_format),
                   filters=DisbursementExportForm(request.GET).as_params())


def _export(request, *, kind: DataExport.Kind, file_format: DataExport.Format, filters: dict):
    """Recorded first; the CSV streams, a small XLSX comes at once, a large one is built by
    the worker while the person watches its page (workflows.export_jobs)."""
    queryset, columns, title = export_jobs.export_source(actor=request.user, kind=kind, filters=filters)
    record = exports.export_record(actor=request.user, kind=kind, file_format=file_format, filters=filters)
    if file_format == DataExport.Format.XLSX and export_jobs.is_large(queryset):
        job = export_jobs.export_job_start(actor=request.user, record=record)
        return HttpResponseRedirect(reverse("workflows:export_job", args=[job.pk]), status=303)
    return exports.export_response(kind=kind, file_format=file_format, queryset=queryset, columns=columns,
                                   title=title)


REFRESH_SECONDS = 2


@login_required
@require_safe
def export_job(request, job_id):
    """A background export's progress, refreshing itself while it runs; the download when done."""
    job = export_jobs.export_job_for(actor=request.user, job_id=job_id)
    running = job.status in (ExportJob.Status.QUEUED, ExportJob.Status.RUNNING)
    still = request.GET.get("uppdatera") == "nej"
    response = render(request, "workflows/export_job.html", {
        "job": job, "running": running, "still": still, "refresh_seconds": REFRESH_SECONDS,
        "rows_done": number_format(job.rows_done, force_grouping=True),
        "rows_total": number_format(job.rows_total, force_grouping=True) if job.rows_total is not None else "",
    })
    if running and not still:
        # The header a <meta http-equiv="refresh"> stands for: no script, one light request per 2 s.
        response["Refresh"] = str(REFRESH_SECONDS)
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_GET  # not HEAD: each download is recorded as an export
def export_job_download(request, job_id):
    """The finished workbook as stored, served only if it still has its recorded SHA-256."""
    job = export_jobs.export_job_for(actor=request.user, job_id=job_id)
    if job.status != ExportJob.Status.DONE:
        raise Http404
    try:
        handle = export_jobs.export_job_open(job)
    except export_jobs.ExportAltered:
        return render(request, "workflows/export_job.html", {
            "job": job, "altered": True, "running": False, "still": True}, status=409)
    exports.export_record(actor=request.user, kind=DataExport.Kind(job.export.kind),
                          file_format=DataExport.Format.XLSX, filters=job.export.filters)
    response = FileResponse(handle, as_attachment=True, content_type=exports.XLSX_CONTENT_TYPE,
                            filename=exports.filename(DataExport.Kind(job.export.kind), DataExport.Format.XLSX,
                                                      on=timezone.localdate(job.export.made_at)))
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_safe
def export_list(request):
    """Gjorda exporter: who exported what, when and with which filters, newest first."""
    _staff_only(request)
    per_page = _page_size(request)
    records = DataExport.objects.select_related("made_by").only(
        "id", "kind", "file_format", "filters", "made_at", "made_by__id", "made_by__username",
        "made_by__first_name", "made_by__last_name",
    )
    page = keyset_page(records, ordering=EXPORT_ORDER, params=request.GET, size=per_page)
    # The forms' fields name each filter and its choice (two queries for the page, if any has filters).
    fields = {**DecisionLogForm().fields, **DisbursementExportForm().fields} if any(r.filters for r in page) else {}
    rows = [{"record": record, "filters": _described(record.filters, fields)} for record in page]
    return render(request, "workflows/export_list.html", {
        "page": page, "rows": rows, "per_page": per_page, "page_sizes": PAGE_SIZES,
        **_total(count_up_to(DataExport.objects.all(), COUNT_LIMIT, ordering=EXPORT_ORDER)),
    })


def _described(filters: dict, fields: dict) -> list[tuple[str, str]]:
    """An export's filters as the form names them: (field label, value or choice label)."""
    described = []
    for name, value in filters.items():
        field = fields.get(name)
        choices = {str(key): label for key, label in getattr(field, "choices", [])} if field is not None else {}
        described.append((str(field.label) if field is not None else name, str(choices.get(value, value))))
    return described
