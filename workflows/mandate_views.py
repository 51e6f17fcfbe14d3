"""Behörigheter att pröva: Brå's registrar confirms or rejects the signing mandates
applicants have proven with a document, oldest first. Thin: the rules (registrar only, no
member of the organisation: jäv) are in bidrag.services.organisations.mandate_decide."""

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
    rows = [
        {"membership": m, "reject_form": failed_form if failed_key == m.key else RejectForm(prefix=str(m.key))}
        for m in bidrag_selectors.mandate_queue(actor=request.user)
    ]
    return render(request, "workflows/mandates.html", {"rows": rows}, status=status)


@login_required
def mandate_queue(request):
    _registrar_only(request)
    return _page(request)


@login_required
@require_POST
def mandate_decide(request, membership_key):
    _registrar_only(request)
    confirm = request.POST.get("decision") == "confirm"
    form = RejectForm(request.POST, prefix=str(membership_key))
    if not confirm and not form.is_valid():
        return _page(request, status=400, failed_key=membership_key, failed_form=form)
    try:
        organisation_services.mandate_decide(
            actor=request.user, membership_key=membership_key, confirm=confirm,
            reasons="" if confirm else form.cleaned_data["reasons"],
        )
    except NotFound:
        raise Http404 from None
    except ServiceError as error:
        report_error(request, error)
        return _page(request, status=error.http_status)
    messages.success(request, _("Behörigheten är bekräftad.") if confirm else _("Behörigheten är avslagen."))
    return redirect("workflows:mandate_queue")
