"""The decision log (beslutslogg) and its exports, for staff readers: the auditor's landing
page (issue 9). Read-only: nothing here changes a case; an export is recorded
(workflows.DataExport) and listed under *Gjorda exporter*. Anyone who is not Brå staff
gets the same 404 as for a case page.

Thin: parse the filter form, call workflows.decision_log, render or stream (workflows.exports).
"""

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_safe

from arenden.keyset import count_up_to, keyset_page
from bidrag.roles import is_staff_reader

from . import decision_log as log
from . import exports
from .decision_log_forms import DecisionLogForm, DisbursementExportForm
from .models import DataExport
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
    file_format = _file_format(file_format)
    form = DecisionLogForm(request.GET)
    form.is_valid()
    decisions = log.decision_log_rows(log.decision_log(actor=request.user, log_filter=form.log_filter()))
    exports.export_record(actor=request.user, kind=DataExport.Kind.DECISIONS, file_format=file_format,
                          filters=form.as_params())
    return exports.export_response(kind=DataExport.Kind.DECISIONS, file_format=file_format,
                                   queryset=decisions.order_by(*log.DECISION_LOG_ORDER),
                                   columns=exports.decision_columns(), title=_("Beslutslogg"))


@login_required
@require_GET  # not HEAD: each request is recorded as an export
def disbursement_export(request, file_format):
    """Every disbursement (or those in one state), as CSV or XLSX."""
    _staff_only(request)
    file_format = _file_format(file_format)
    form = DisbursementExportForm(request.GET)
    disbursements = log.disbursement_log(actor=request.user, status=form.status_value())
    exports.export_record(actor=request.user, kind=DataExport.Kind.DISBURSEMENTS, file_format=file_format,
                          filters=form.as_params())
    return exports.export_response(kind=DataExport.Kind.DISBURSEMENTS, file_format=file_format,
                                   queryset=disbursements, columns=exports.disbursement_columns(),
                                   title=_("Utbetalningar"))


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
