"""The applicant's demand for a decision (FL 12 §), its refusal and the delay notice
(FL 11 §), from the case pages (workflows.clocks). Thin: parse, call, redirect."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from arenden.errors import ServiceError, ValidationFailed
from arenden.formatting import day
from arenden.http import report_error
from bidrag import selectors as bidrag_selectors

from . import clocks


class DelayNoticeForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Anledning till förseningen"), widget=forms.Textarea(attrs={"rows": 3}))
    expected_by = forms.DateField(label=gettext_lazy("Beslut väntas senast"),
                                  widget=forms.DateInput(attrs={"type": "date"}))


class RefuseDemandForm(forms.Form):
    reasons = forms.CharField(label=gettext_lazy("Skäl (FL 32 §)"), widget=forms.Textarea(attrs={"rows": 3}))


def _refused(request, application, error: ServiceError):
    status = report_error(request, error)
    return render(request, "workflows/refused.html", {"application": application, "back_to_case": True},
                  status=status)


@login_required
@require_POST
def decision_demand(request, application_id):
    application = bidrag_selectors.application_get(actor=request.user, application_id=application_id)
    try:
        demand = clocks.demand(actor=request.user, application_id=application.pk)
    except ServiceError as error:
        return _refused(request, application, error)
    messages.success(request, _("Er begäran har kommit in. Brå avgör ärendet eller svarar er senast %(day)s.")
                     % {"day": day(demand.due_on)})
    return redirect(reverse("workflows:application_detail", args=[application.pk]) + "#tidsfrister")


@login_required
@require_POST
def demand_refuse(request, application_id):
    application = bidrag_selectors.application_get(actor=request.user, application_id=application_id)
    form = RefuseDemandForm(request.POST)
    reasons = form.cleaned_data["reasons"] if form.is_valid() else ""  # the service says what is missing
    try:
        clocks.refuse_demand(actor=request.user, application_id=application.pk, reasons=reasons)
    except ServiceError as error:
        return _refused(request, application, error)
    messages.success(request, _("Begäran om avgörande är avslagen. Beslutsbrevet skickas till sökanden."))
    return redirect(reverse("workflows:case_detail", args=[application.pk]) + "#tidsfrister")


@login_required
@require_POST
def delay_notice(request, application_id):
    application = bidrag_selectors.application_get(actor=request.user, application_id=application_id)
    form = DelayNoticeForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationFailed(_("Ange anledningen och när beslut väntas (förvaltningslagen 11 §)."))
        clocks.notify_delay(actor=request.user, application_id=application.pk, reason=form.cleaned_data["reason"],
                            expected_by=form.cleaned_data["expected_by"])
    except ServiceError as error:
        return _refused(request, application, error)
    messages.success(request, _("Sökanden är underrättad om förseningen."))
    return redirect(reverse("workflows:case_detail", args=[application.pk]) + "#tidsfrister")


class CorrectionForm(forms.Form):
    decision = forms.UUIDField(widget=forms.HiddenInput)
    note = forms.CharField(label=gettext_lazy("Vad var fel?"), widget=forms.Textarea(attrs={"rows": 2}))
    reasons = forms.CharField(label=gettext_lazy("Skäl, rättade"), widget=forms.Textarea(attrs={"rows": 4}))
    conditions = forms.CharField(label=gettext_lazy("Villkor, rättade"), required=False,
                                 widget=forms.Textarea(attrs={"rows": 2}))


@login_required
@require_POST
def decision_correct(request, application_id):
    application = bidrag_selectors.application_get(actor=request.user, application_id=application_id)
    form = CorrectionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Skriv vad som var fel och de rättade skälen (36 § förvaltningslagen)."))
        return render(request, "workflows/refused.html", {"application": application, "back_to_case": True},
                      status=400)
    data = form.cleaned_data
    try:
        clocks.correct(actor=request.user, application_id=application.pk, decision_id=data["decision"],
                       reasons=data["reasons"], conditions=data.get("conditions", ""), note=data["note"])
    except ServiceError as error:
        return _refused(request, application, error)
    messages.success(request, _("Beslutet är rättat. Det rättade beslutet skickas till sökanden."))
    return redirect(reverse("workflows:case_detail", args=[application.pk]) + "#beslut-rattelse")
