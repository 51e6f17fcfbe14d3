"""Betalningar: finance's page for the payment file to the bank (pain.001), the bank's
statement read back (camt.054/camt.053) and the vouchers for the ledger (SIE 4i).

Thin: parse, call bidrag.payments (or workflows.payments for the statement, which pays
through the door), render or send the file. Only finance reaches it: someone who is not
Brå staff gets the same 404 as for any case page, other staff (auditors included) a 403.
"""

from datetime import date, timedelta

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from arenden.errors import NotAllowed, ServiceError
from arenden.formatting import money
from arenden.http import report_error
from bidrag.payments.files import is_finance, payable_disbursements, payment_file_create
from bidrag.payments.sie import sie_file_build
from bidrag.roles import is_staff_reader

from .payments import statement_reconcile


class PaymentFileForm(forms.Form):
    execution_date = forms.DateField(
        label=gettext_lazy("Betalningsdag"), widget=forms.DateInput(attrs={"type": "date"}),
        help_text=gettext_lazy("Den dag banken ska betala ut. Skriv datumet som ÅÅÅÅ-MM-DD."),
        error_messages={"required": gettext_lazy("Ange betalningsdagen."),
                        "invalid": gettext_lazy("Ange betalningsdagen som ÅÅÅÅ-MM-DD.")},
    )


class StatementForm(forms.Form):
    statement = forms.FileField(
        label=gettext_lazy("Kontoutdrag från banken (camt.054 eller camt.053, XML)"),
        error_messages={"required": gettext_lazy("Välj filen med kontoutdraget.")},
    )


class VoucherForm(forms.Form):
    start = forms.DateField(
        label=gettext_lazy("Från och med"), widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"required": gettext_lazy("Ange periodens första dag."),
                        "invalid": gettext_lazy("Ange datumet som ÅÅÅÅ-MM-DD.")},
    )
    end = forms.DateField(
        label=gettext_lazy("Till och med"), widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"required": gettext_lazy("Ange periodens sista dag."),
                        "invalid": gettext_lazy("Ange datumet som ÅÅÅÅ-MM-DD.")},
    )


def _require_finance_page(request):
    """404 for anyone who is not Brå staff (as every case page), 403 for staff outside finance."""
    if not is_staff_reader(request.user):
        raise Http404
    if not is_finance(request.user):
        error = NotAllowed(_("Betalningar hanteras av ekonomi."))
        status = report_error(request, error)
        return render(request, "workflows/payments/refused.html", status=status)
    return None


def _overview(request, *, status=200, file_form=None, statement_form=None, voucher_form=None, result=None):
    today = timezone.localdate()
    first = today.replace(day=1)
    rows = list(payable_disbursements(actor=request.user))
    return render(request, "workflows/payments/overview.html", {
        "rows": rows,
        "total": sum((d.amount for d in rows), start=0),
        "new_total": sum((d.amount for d in rows if d.in_file is None), start=0),
        "file_form": file_form or PaymentFileForm(initial={"execution_date": today}),
        "statement_form": statement_form or StatementForm(),
        "voucher_form": voucher_form or VoucherForm(initial={"start": (first - timedelta(days=1)).replace(day=1),
                                                            "end": first - timedelta(days=1)}),
        "result": result,
    }, status=status)


@login_required
@require_GET
def payments(request):
    if refusal := _require_finance_page(request):
        return refusal
    return _overview(request)


def _attachment(content: bytes, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def payment_file(request):
    """The pain.001 file of the chosen attested disbursements (none chosen: all not yet in a file)."""
    if refusal := _require_finance_page(request):
        return refusal
    form = PaymentFileForm(request.POST)
    if not form.is_valid():
        return _overview(request, status=400, file_form=form)
    chosen = request.POST.getlist("disbursement") or None
    try:
        made = payment_file_create(actor=request.user, disbursement_ids=chosen,
                                   execution_date=form.cleaned_data["execution_date"])
    except (ValueError, ValidationError):  # a chosen id that is no UUID
        raise Http404 from None
    except ServiceError as error:
        if field := (error.details or {}).get("field"):
            form.add_error(field if field in form.fields else None, str(error.message))
        status = report_error(request, error)
        return _overview(request, status=status, file_form=form)
    return _attachment(made.content, made.filename, "application/xml; charset=utf-8")


@login_required
@require_POST
def statement_upload(request):
    """The bank's statement: each matched payment registered as paid, the rest listed with why."""
    if refusal := _require_finance_page(request):
        return refusal
    form = StatementForm(request.POST, request.FILES)
    if not form.is_valid():
        return _overview(request, status=400, statement_form=form)
    try:
        result = statement_reconcile(actor=request.user, content=form.cleaned_data["statement"].read())
    except ServiceError as error:
        form.add_error("statement", str(error.message))
        return _overview(request, status=error.http_status, statement_form=form)
    if result.paid:
        messages.success(request, _("%(count)s utbetalningar om sammanlagt %(total)s är registrerade som utbetalda.") % {
            "count": len(result.paid), "total": money(sum((m.disbursement.amount for m in result.paid), start=0))})
    if result.problems:
        messages.warning(request, _("%(count)s poster i kontoutdraget kunde inte registreras; se listan.")
                         % {"count": len(result.problems)})
    return _overview(request, result=result)


@login_required
@require_GET
def voucher_file(request):
    """The SIE 4i vouchers of the disbursements paid in a period."""
    if refusal := _require_finance_page(request):
        return refusal
    form = VoucherForm(request.GET)
    if not form.is_valid():
        return _overview(request, status=400, voucher_form=form)
    start: date = form.cleaned_data["start"]
    end: date = form.cleaned_data["end"]
    try:
        made = sie_file_build(actor=request.user, start=start, end=end)
    except ServiceError as error:
        if field := (error.details or {}).get("field"):
            form.add_error(field if field in form.fields else None, str(error.message))
        status = report_error(request, error)
        return _overview(request, status=status, voucher_form=form)
    return _attachment(made.content, made.filename, "text/plain; charset=IBM437")
