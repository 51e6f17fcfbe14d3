"""Behörigheter att pröva: Brå's registrar confirms or rejects the signing mandates
applicants have proven with a document, oldest first: members' mandate requests and the
proofs attached to join requests (a person not yet a member, who says they may sign for the
organisation), in one list. Thin: the rules (registrar only, no member of the organisation
and not the one who asked: jäv) are in bidrag.services.organisations.mandate_decide and
join_mandate_decide."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from arenden.errors import NotFound, ServiceError
from arenden.http import report_error
from bidrag import selectors as bidrag_selectors
from bidrag.organisations import RejectForm
from bidrag.roles import Role, user_roles
from bidrag.services import organisations as organisation_services


def _registrar_only(request) -> None:
    if Role.REGISTRAR not in user_roles(request.user):
        raise Http404


def _page(request, *, status=200, failed_key=None, failed_form=None):
    def form_for(key):
        return failed_form if failed_key == key else RejectForm(prefix=str(key))

    rows = [
        {"membership": m, "key": m.key, "requested_at": m.mandate_requested_at, "reject_form": form_for(m.key)}
        for m in bidrag_selectors.mandate_queue(actor=request.user)
    ] + [
        {"join_request": r, "key": r.pk, "requested_at": r.mandate_requested_at, "reject_form": form_for(r.pk)}
        for r in organisation_services.join_mandate_queue(actor=request.user)
    ]
    rows.sort(key=lambda row: row["requested_at"])  # oldest first, whichever kind
    return render(request, "workflows/mandates.html", {"rows": rows}, status=status)


@login_required
def mandate_queue(request):
    _registrar_only(request)
    return _page(request)


def _decide(request, key, decide, *, confirmed: str, rejected: str):
    confirm = request.POST.get("decision") == "confirm"
    form = RejectForm(request.POST, prefix=str(key))
    if not confirm and not form.is_valid():
        return _page(request, status=400, failed_key=key, failed_form=form)
    try:
        decide(confirm=confirm, reasons="" if confirm else form.cleaned_data["reasons"])
    except NotFound:
        raise Http404 from None
    except ServiceError as error:
        report_error(request, error)
        return _page(request, status=error.http_status)
    messages.success(request, confirmed if confirm else rejected)
    return redirect("workflows:mandate_queue")


@login_required
@require_POST
def mandate_decide(request, membership_key):
    _registrar_only(request)
    return _decide(request, membership_key, lambda **ruling: organisation_services.mandate_decide(
        actor=request.user, membership_key=membership_key, **ruling),
        confirmed=_("Behörigheten är bekräftad."), rejected=_("Behörigheten är avslagen."))


@login_required
@require_POST
def join_mandate_decide(request, join_request_id):
    _registrar_only(request)
    return _decide(request, join_request_id, lambda **ruling: organisation_services.join_mandate_decide(
        actor=request.user, join_request_id=join_request_id, **ruling),
        confirmed=_("Behörigheten är bekräftad. Personen är nu medlem i organisationen som firmatecknare."),
        rejected=_("Behörigheten är avslagen. Begäran om medlemskap väntar kvar på organisationens firmatecknare."))
