"""Mina organisationer: the applicant's organisations, joining by organisationsnummer,
invitations by e-mail, members, and the signing mandate's proof. Thin: parse, call a
service or selector, render. The rules are in bidrag/services/organisations.py."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from arenden.errors import NotFound, ServiceError, TransitionNotAllowed
from arenden.http import report_error

from . import selectors
from .models import JoinRequest, Membership
from .models.organisation import PaymentMethod
from .orgnr import LegalForm, format_orgnr, legal_form_for, normalise_orgnr
from .payments.accounts import organisation_payment_account_set
from .services import organisations as services


class OrganisationAddForm(forms.Form):
    orgnr = forms.CharField(
        label=gettext_lazy("Organisationsnummer"), max_length=20,
        help_text=gettext_lazy("Tio siffror, till exempel 212000-0142."),
        error_messages={"required": gettext_lazy("Ange organisationsnumret.")},
    )
    name = forms.CharField(
        label=gettext_lazy("Organisationens namn"), max_length=200, required=False,
        help_text=gettext_lazy("Behövs bara för en organisation som inte redan finns här. En kommuns namn fylls i av sig självt."),
    )

    def clean_orgnr(self):
        return normalise_orgnr(self.cleaned_data["orgnr"])  # a Swedish message at the field


class MandateForm(forms.Form):
    document = forms.FileField(
        label=gettext_lazy("Bevis om behörighet (PDF)"),
        help_text=gettext_lazy("Utdrag ur delegationsordningen eller protokoll från styrelsen som visar att du får "
                               "företräda organisationen."),
        error_messages={"required": gettext_lazy("Välj filen med beviset.")},
    )


class InviteForm(forms.Form):
    email = forms.EmailField(
        label=gettext_lazy("E-postadress"),
        error_messages={"required": gettext_lazy("Ange e-postadressen."),
                        "invalid": gettext_lazy("Ange en giltig e-postadress, till exempel namn@kommun.se.")},
    )
    role = forms.ChoiceField(
        label=gettext_lazy("Roll"), choices=Membership.Role.choices, widget=forms.RadioSelect,
        initial=Membership.Role.APPLICANT,
        help_text=gettext_lazy("En firmatecknare eller ett ombud skickar själv in bevis om sin behörighet, "
                               "som Brå bekräftar innan hen kan skriva under."),
        error_messages={"required": gettext_lazy("Välj en roll.")},
    )


class PaymentAccountForm(forms.Form):
    method = forms.ChoiceField(
        label=gettext_lazy("Betalningssätt"), choices=PaymentMethod.choices, widget=forms.RadioSelect,
        error_messages={"required": gettext_lazy("Välj bankgiro eller plusgiro.")},
    )
    number = forms.CharField(
        label=gettext_lazy("Nummer"), max_length=20,
        help_text=gettext_lazy("Bankgiro: 7 eller 8 siffror, till exempel 5050-1055. Plusgiro: 2–8 siffror, "
                               "till exempel 12345-5."),
        error_messages={"required": gettext_lazy("Ange numret.")},
    )


class RejectForm(forms.Form):
    reasons = forms.CharField(
        label=gettext_lazy("Skäl"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000,
        error_messages={"required": gettext_lazy("Ange skälen till att behörigheten inte bekräftas.")},
    )


def _error_at(form, error: ServiceError, fallback: str) -> None:
    field = error.details.get("field") or fallback
    form.add_error(field if field in form.fields else None, str(error.message))


def _list(request, *, status=200, failed_id=None, failed_form=None):
    join_requests = [
        {"request": join_request,
         "mandate_form": failed_form if failed_id == join_request.pk else MandateForm(prefix=str(join_request.pk))}
        for join_request in services.join_requests_pending_of(actor=request.user)
    ]
    return render(request, "bidrag/organisation_list.html", {
        "memberships": selectors.memberships_of(actor=request.user),
        "join_requests": join_requests,
        "Mandate": Membership.Mandate,
    }, status=status)


@login_required
def organisation_list(request):
    return _list(request)


@login_required
@require_POST
def join_mandate_request(request, join_request_id):
    """The proof of a mandate, attached to one's own pending join request (for Brå's registrar)."""
    try:
        join_request = services.join_request_of(actor=request.user, join_request_id=join_request_id)
    except NotFound:
        raise Http404 from None
    form = MandateForm(request.POST, request.FILES, prefix=str(join_request.pk))
    if not form.is_valid():
        return _list(request, status=400, failed_id=join_request.pk, failed_form=form)
    try:
        services.join_mandate_request(actor=request.user, join_request_id=join_request.pk,
                                      uploaded_file=form.cleaned_data["document"])
    except NotFound:
        raise Http404 from None
    except TransitionNotAllowed as error:  # decided, or a proof already waiting: no form to show it at
        report_error(request, error)
        return _list(request, status=error.http_status)
    except ServiceError as error:
        _error_at(form, error, "document")
        return _list(request, status=error.http_status, failed_id=join_request.pk, failed_form=form)
    messages.success(request, _("Beviset är inskickat. Brås registrator prövar din behörighet att teckna "
                                "%(name)s.") % {"name": join_request.organisation.name})
    return HttpResponseRedirect(reverse("bidrag:organisation_list") + f"#begaran-{join_request.pk}")


def _lookup(digits: str) -> dict:
    from .models import Organisation

    legal_form = legal_form_for(digits)
    return {
        "orgnr": format_orgnr(digits),
        "legal_form": LegalForm(legal_form).label,
        "municipality": selectors.municipality_for(digits),
        "existing": Organisation.objects.filter(orgnr=digits).first(),
        "schemes": selectors.schemes_for_legal_form(legal_form),
    }


@login_required
@require_http_methods(["GET", "POST"])
def organisation_add(request):
    """Step one checks the number and shows what it is; step two (confirm) creates or joins."""
    if request.method == "GET":
        return render(request, "bidrag/organisation_add.html", {"form": OrganisationAddForm()})
    form = OrganisationAddForm(request.POST)
    if not form.is_valid():
        return render(request, "bidrag/organisation_add.html", {"form": form}, status=400)
    digits = form.cleaned_data["orgnr"]
    context = {"form": form, "lookup": _lookup(digits)}
    if "confirm" not in request.POST:
        return render(request, "bidrag/organisation_add.html", context)
    try:
        result = services.organisation_add(actor=request.user, orgnr=digits, name=form.cleaned_data["name"])
    except ServiceError as error:
        _error_at(form, error, "orgnr")
        return render(request, "bidrag/organisation_add.html", context, status=error.http_status)
    if isinstance(result, JoinRequest):
        pending = services.join_requests_pending_of(actor=request.user).filter(pk=result.pk, has_signatory=True)
        if pending.exists():
            messages.success(request, _("Din begäran om medlemskap i %(name)s är skickad till organisationens "
                                        "firmatecknare.") % {"name": result.organisation.name})
        else:
            messages.success(request, _("Din begäran om medlemskap i %(name)s är registrerad, men ingen där kan "
                                        "godkänna den ännu. Får du teckna organisationen kan du skicka in ett "
                                        "bevis till Brå nedan.") % {"name": result.organisation.name})
        return HttpResponseRedirect(reverse("bidrag:organisation_list") + f"#begaran-{result.pk}")
    messages.success(request, _("Du är medlem i %(name)s som sökande.") % {"name": result.organisation.name})
    return redirect("bidrag:organisation_detail", result.organisation_id)


def _detail(request, organisation_id, *, status=200, **forms_):
    membership = selectors.membership_for_member(actor=request.user, organisation_id=organisation_id)
    organisation = membership.organisation
    context = {
        "organisation": organisation,
        "membership": membership,
        "municipality": selectors.municipality_for(organisation.orgnr),
        "schemes": selectors.schemes_for_legal_form(organisation.legal_form),
        "members": selectors.organisation_members(actor=request.user, organisation_id=organisation.pk),
        "join_requests": selectors.organisation_join_requests(actor=request.user, organisation_id=organisation.pk),
        "invitations": selectors.organisation_invitations(actor=request.user, organisation_id=organisation.pk),
        "decisions": selectors.mandate_decisions_of(actor=request.user, organisation_id=organisation.pk),
        "mandate_form": forms_.get("mandate_form") or MandateForm(),
        "invite_form": forms_.get("invite_form") or InviteForm(),
        "account_form": forms_.get("account_form") or PaymentAccountForm(
            initial={"method": organisation.payment_method or PaymentMethod.BANKGIRO,
                     "number": organisation.payment_account_display}),
        "Mandate": Membership.Mandate,
    }
    return render(request, "bidrag/organisation_detail.html", context, status=status)


@login_required
def organisation_detail(request, organisation_id):
    return _detail(request, organisation_id)


def _back(organisation_id, anchor=""):
    return HttpResponseRedirect(reverse("bidrag:organisation_detail", args=[organisation_id]) + anchor)


@login_required
@require_POST
def mandate_request(request, organisation_id):
    membership = selectors.membership_for_member(actor=request.user, organisation_id=organisation_id)
    form = MandateForm(request.POST, request.FILES)
    if not form.is_valid():
        return _detail(request, organisation_id, status=400, mandate_form=form)
    try:
        services.mandate_request(actor=request.user, organisation=membership.organisation,
                                 uploaded_file=form.cleaned_data["document"])
    except NotFound:
        raise Http404 from None
    except ServiceError as error:
        _error_at(form, error, "document")
        return _detail(request, organisation_id, status=error.http_status, mandate_form=form)
    messages.success(request, _("Beviset är inskickat. Brås registrator prövar din behörighet."))
    return _back(organisation_id, "#behorighet")


@login_required
@require_POST
def invitation_send(request, organisation_id):
    membership = selectors.membership_for_member(actor=request.user, organisation_id=organisation_id)
    form = InviteForm(request.POST)
    if not form.is_valid():
        return _detail(request, organisation_id, status=400, invite_form=form)
    try:
        services.invitation_send(
            actor=request.user, organisation=membership.organisation, **form.cleaned_data,
            accept_url=lambda token: request.build_absolute_uri(reverse("bidrag:invitation_accept", args=[token])),
        )
    except ServiceError as error:
        _error_at(form, error, "email")
        return _detail(request, organisation_id, status=error.http_status, invite_form=form)
    messages.success(request, _("Inbjudan är skickad till %(email)s.") % {"email": form.cleaned_data["email"]})
    return _back(organisation_id, "#medlemmar")


@login_required
@require_POST
def payment_account_set(request, organisation_id):
    """Where Brå pays the organisation's grants: set by a firmatecknare with a confirmed mandate."""
    membership = selectors.membership_for_member(actor=request.user, organisation_id=organisation_id)
    form = PaymentAccountForm(request.POST)
    if not form.is_valid():
        return _detail(request, organisation_id, status=400, account_form=form)
    try:
        organisation = organisation_payment_account_set(
            actor=request.user, organisation_id=membership.organisation_id, **form.cleaned_data
        )
    except NotFound:
        raise Http404 from None
    except ServiceError as error:
        _error_at(form, error, "number")
        return _detail(request, organisation_id, status=error.http_status, account_form=form)
    messages.success(request, _("Kontot för utbetalningar är sparat: %(method)s %(number)s.") % {
        "method": organisation.get_payment_method_display(), "number": organisation.payment_account_display})
    return _back(organisation_id, "#utbetalningar")


def _act(request, organisation_id, call, done: str, anchor: str):
    try:
        call()
    except NotFound:
        raise Http404 from None
    except ServiceError as error:
        report_error(request, error)
        return _detail(request, organisation_id, status=error.http_status)
    messages.success(request, done)
    return _back(organisation_id, anchor)


@login_required
@require_POST
def join_request_decide(request, organisation_id, request_id):
    membership = selectors.membership_for_member(actor=request.user, organisation_id=organisation_id)
    approve = request.POST.get("decision") == "approve"
    return _act(
        request, organisation_id,
        lambda: services.join_request_decide(actor=request.user, organisation=membership.organisation,
                                             request_id=request_id, approve=approve),
        _("Personen är nu medlem som sökande.") if approve else _("Begäran är avböjd."), "#medlemmar",
    )


@login_required
@require_POST
def invitation_revoke(request, organisation_id, invitation_id):
    membership = selectors.membership_for_member(actor=request.user, organisation_id=organisation_id)
    return _act(
        request, organisation_id,
        lambda: services.invitation_revoke(actor=request.user, organisation=membership.organisation,
                                           invitation_id=invitation_id),
        _("Inbjudan är återkallad. Länken fungerar inte längre."), "#medlemmar",
    )


@login_required
@require_POST
def membership_remove(request, organisation_id, membership_key):
    membership = selectors.membership_for_member(actor=request.user, organisation_id=organisation_id)
    if membership.key == membership_key:
        try:
            services.membership_remove(actor=request.user, organisation=membership.organisation,
                                       membership_key=membership_key)
        except ServiceError as error:
            report_error(request, error)
            return _detail(request, organisation_id, status=error.http_status)
        messages.success(request, _("Du är inte längre medlem i %(name)s.") % {"name": membership.organisation.name})
        return redirect("bidrag:organisation_list")
    return _act(
        request, organisation_id,
        lambda: services.membership_remove(actor=request.user, organisation=membership.organisation,
                                           membership_key=membership_key),
        _("Medlemmen är borttagen."), "#medlemmar",
    )


@login_required
def mandate_document(request, attachment_id):
    """The proof of a mandate: for Brå's registrar and the organisation's members, and the
    proof attached to a join request for the person who asked."""
    from urllib.parse import quote

    try:
        document = selectors.mandate_document_get(actor=request.user, attachment_id=attachment_id)
    except Http404:
        try:  # a proof attached to a join request, not yet ruled on
            document = services.join_mandate_document_get(actor=request.user, attachment_id=attachment_id)
        except NotFound:
            raise Http404 from None
    storage = document.file.storage
    if hasattr(storage, "bucket_name"):  # S3: a short-lived link, as for every attachment
        response = HttpResponseRedirect(storage.url(document.file.name, parameters={
            "ResponseContentDisposition": f"attachment; filename*=UTF-8''{quote(document.original_name, safe='')}",
            "ResponseContentType": document.content_type,
        }))
        response["Cache-Control"] = "no-store"
        return response
    return FileResponse(storage.open(document.file.name, "rb"), as_attachment=True, filename=document.original_name,
                        content_type=document.content_type)


@login_required
@require_http_methods(["GET", "POST"])
def invitation_accept(request, token):
    try:
        invitation = services.invitation_for_token(token=token)
    except NotFound as error:
        return render(request, "bidrag/organisation_invitation.html", {"problem": error.message}, status=404)
    problem = services.invitation_problem(actor=request.user, invitation=invitation)
    if request.method == "POST" and problem is None:
        try:
            membership = services.invitation_accept(actor=request.user, token=token)
        except ServiceError as error:
            problem = error.message
        else:
            messages.success(request, _("Du är nu medlem i %(name)s som %(role)s.")
                             % {"name": membership.organisation.name, "role": membership.get_role_display().lower()})
            return redirect("bidrag:organisation_detail", membership.organisation_id)
    return render(request, "bidrag/organisation_invitation.html",
                  {"invitation": invitation, "problem": problem}, status=409 if problem else 200)

