"""The pages of a reconsideration (FL 37–39 §§): the case officer's proposal of a changed
decision (through the door: it opens the decision maker's step), the applicant's request,
a request that came by letter and the answer that the decision stands (beside the flow,
workflows.reconsiderations). Thin: parse, call, render."""

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from arenden.errors import ServiceError, ValidationFailed
from arenden.http import report_error
from bidrag import selectors as bidrag_selectors
from bidrag.models import Appeal
from bidrag.roles import is_staff_reader
from bidrag.services.reconsiderations import decision_in_force, open_reconsideration

from . import door, policy, reconsiderations
from .flows import PROPOSE_RECONSIDERATION
from .reconsideration_forms import CommentsForm, KeepForm, LetterRequestForm, ReconsiderationForm, RequestForm


def _staff_application(request, application_id):
    if not is_staff_reader(request.user):
        raise Http404
    return bidrag_selectors.application_get(actor=request.user, application_id=application_id)


def _refused(request, application, error: ServiceError, *, staff: bool = True):
    status = report_error(request, error)
    return render(request, "workflows/refused.html", {"application": application, "back_to_case": staff},
                  status=status)


def _to_case(application):
    return redirect(reverse("workflows:case_detail", args=[application.pk]) + "#omprovning")


def _appeal(application, appeal_id) -> Appeal | None:
    """The appeal a reconsideration is taken up on (FL 38 §), from the appeal's prompt."""
    try:
        key = uuid.UUID(str(appeal_id)) if appeal_id else None
    except ValueError:
        return None
    return Appeal.objects.filter(pk=key, decision__application=application).first() if key else None


def _initial(decision, appeal_id) -> dict:
    initial = {"appeal": appeal_id}
    if decision is not None:
        initial.update(outcome=decision.outcome, amount=decision.amount, conditions=decision.conditions)
    return initial


@login_required
@require_http_methods(["GET", "POST"])
def propose_reconsideration(request, application_id):
    application = _staff_application(request, application_id)
    try:
        policy.check(actor=request.user, application=application, action=PROPOSE_RECONSIDERATION)
    except ServiceError as error:
        return _refused(request, application, error)
    decision = decision_in_force(application)
    appeal = _appeal(application, request.GET.get("overklagande") or request.POST.get("appeal"))
    posted = request.method == "POST"
    form = ReconsiderationForm(request.POST if posted else None,
                               initial=_initial(decision, appeal.pk if appeal else None))
    status = 200
    if posted:
        if form.is_valid():
            try:
                door.act(actor=request.user, application_id=application.pk, node=None,
                         action=PROPOSE_RECONSIDERATION.name, data=form.cleaned_data)
            except ServiceError as error:
                status = report_error(request, error)
                field = (error.details or {}).get("field")
                if field in form.fields:
                    form.add_error(field, str(error.message))
            else:
                messages.success(request, _("Förslaget om omprövning är lagt. En beslutsfattare som inte har deltagit "
                                            "i bedömningen beslutar om det."))
                return _to_case(application)
        else:
            status = 400
    return render(request, "workflows/reconsideration_propose.html", {
        "application": application, "form": form, "decision": decision, "appeal": appeal,
        "pending": open_reconsideration(application),
    }, status=status)


@login_required
@require_POST
def request_reconsideration(request, application_id):
    """The applicant's firmatecknare asks on the application's page."""
    application = bidrag_selectors.application_for_member(actor=request.user, application_id=application_id)
    form = RequestForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationFailed(_("Skriv vad i beslutet som ska ändras och varför."))
        reconsiderations.request(actor=request.user, application_id=application.pk, text=form.cleaned_data["text"])
    except ServiceError as error:
        return _refused(request, application, error, staff=False)
    messages.success(request, _("Er begäran om omprövning har kommit in till Brå. Ni får besked när Brå har prövat "
                                "beslutet på nytt."))
    return redirect(reverse("workflows:application_detail", args=[application.pk]) + "#omprovning")


@login_required
@require_POST
def reconsideration_comments(request, application_id):
    """The applicant answers a proposal communicated to them (FL 25 §), on the application's page."""
    application = bidrag_selectors.application_for_member(actor=request.user, application_id=application_id)
    form = CommentsForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationFailed(_("Skriv ert yttrande."))
        reconsiderations.comments(actor=request.user, application_id=application.pk,
                                  answer=form.cleaned_data["answer"])
    except ServiceError as error:
        return _refused(request, application, error, staff=False)
    messages.success(request, _("Ert yttrande har kommit in till Brå. Det läses innan beslutet fattas."))
    return redirect(reverse("workflows:application_detail", args=[application.pk]) + "#omprovning")


@login_required
@require_POST
def register_reconsideration_letter(request, application_id):
    application = _staff_application(request, application_id)
    form = LetterRequestForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationFailed(_("Ange dagen då begäran kom in och vad den gäller."))
        reconsiderations.register_letter(actor=request.user, application_id=application.pk,
                                         text=form.cleaned_data["text"], received_on=form.cleaned_data["received_on"])
    except ServiceError as error:
        return _refused(request, application, error)
    messages.success(request, _("Begäran om omprövning är registrerad."))
    return _to_case(application)


@login_required
@require_POST
def keep_decision(request, application_id):
    application = _staff_application(request, application_id)
    form = KeepForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationFailed(_("Skriv varför beslutet står fast."))
        reconsiderations.keep(actor=request.user, application_id=application.pk, answer=form.cleaned_data["answer"])
    except ServiceError as error:
        return _refused(request, application, error)
    messages.success(request, _("Svaret är registrerat: sökanden ser på ansökans sida att beslutet står fast."))
    return _to_case(application)
