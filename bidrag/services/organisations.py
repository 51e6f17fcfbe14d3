"""Organisations, memberships, invitations and signing mandates (issue 6).

Joining an organisation gives no rights anyone else holds. The rule:

1. An organisationsnummer nobody has registered: the organisation is created (a
   municipality's name and kommunkod from bidrag/data/kommuner.csv, never typed) and the
   person is its first member, as sökande.
2. A registered organisation without members (the 290 municipalities are seeded so): the
   person becomes its first member, as sökande. There is nothing in it yet to see.
3. A registered organisation with members: the person's membership is a join request
   (JoinRequest) that one of the organisation's firmatecknare/ombud with a confirmed mandate
   approves (as sökande) or declines; they are mailed. Or they invite the person by e-mail.
   Or the person attaches proof that they may sign for it, and Brå's registrar decides that
   (join_mandate_request, join_mandate_decide): confirmed, the person is in as firmatecknare
   with a confirmed mandate. Without it an organisation whose members include nobody with a
   confirmed mandate could never let anyone in, its real firmatecknare included.

Nobody becomes a firmatecknare by joining or by being invited: signing rights come only
with a mandate proven by a document (delegation extract, board minutes) and confirmed by
Brå's registrar, who is no member of the organisation (jäv). An e-ID proves the person,
never the mandate.
"""

import secrets
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef, Q, QuerySet, Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from arenden.actors import Actor
from arenden.errors import ErrorCode, NotAllowed, NotFound, TransitionNotAllowed, ValidationFailed
from arenden.models import Attachment, Case, DiariumEntry
from arenden.services import case_assign_diarienummer, case_create, diarium_entry_add
from arenden.storage import StoredUpload, attachment_record, upload_discard, upload_store
from notifications.messages import Recipient, notify

from ..models import Invitation, JoinRequest, MandateDecision, Membership, Organisation
from ..models.application import AttachmentKind
from ..models.mandates import token_hash
from ..orgnr import normalise_orgnr
from ..roles import Role, user_roles
from ..selectors import municipality_for

INVITATION_DAYS = settings.ORGANISATION_INVITATION_DAYS
NEVER_WRITE = frozenset({Role.AUDITOR, Role.ADMINISTRATOR})


def _name(user) -> str:
    return user.get_full_name() or user.get_username()


def _lock_organisation(organisation_id) -> Organisation:
    try:
        return Organisation.objects.select_for_update(of=("self",)).get(pk=organisation_id)
    except Organisation.DoesNotExist:
        raise NotFound(_("Organisationen finns inte.")) from None


def _signing(organisation_id):
    return Membership.objects.filter(Membership.SIGNING, organisation_id=organisation_id)


def _require_signing(actor, organisation_id) -> None:
    if not _signing(organisation_id).filter(user=actor).exists():
        raise NotAllowed(_("Endast organisationens firmatecknare eller ombud med bekräftad behörighet får göra detta."))


def _signatory_people(organisation_id) -> list[Recipient]:
    return [Recipient(email=email, user_id=user_id)
            for user_id, email in _signing(organisation_id).values_list("user_id", "user__email")]


def _organisation_link(organisation: Organisation) -> str:
    return reverse("bidrag:organisation_detail", args=[organisation.pk])


def organisation_add(*, actor: Actor, orgnr: str, name: str = "") -> Membership | JoinRequest:
    """Create or join the organisation with this organisationsnummer, by the rule above.

    Returns the new Membership (created, or joined as first member) or the JoinRequest.
    """
    try:
        digits = normalise_orgnr(orgnr)
    except ValidationError as error:
        raise ValidationFailed(error.messages[0], details={"field": "orgnr"}) from None
    municipality = municipality_for(digits)
    try:
        with transaction.atomic():
            existing = Organisation.objects.select_for_update(of=("self",)).filter(orgnr=digits).first()
            if existing is None:
                if municipality is not None:
                    name, kommunkod = municipality.name, municipality.kommunkod
                else:
                    name, kommunkod = name.strip(), ""
                if not name:
                    raise ValidationFailed(_("Ange organisationens namn."), details={"field": "name"})
                organisation = Organisation.objects.create(orgnr=digits, name=name[:200], kommunkod=kommunkod)
                return Membership.objects.create(organisation=organisation, user=actor, role=Membership.Role.APPLICANT)
            if Membership.objects.filter(organisation=existing, user=actor).exists():
                raise ValidationFailed(
                    _("Du är redan medlem i %(name)s.") % {"name": existing.name}, details={"field": "orgnr"}
                )
            if municipality is not None and not existing.kommunkod:
                existing.kommunkod = municipality.kommunkod
                existing.save(update_fields=["kommunkod"])
            if not Membership.objects.filter(organisation=existing).exists():
                return Membership.objects.create(organisation=existing, user=actor, role=Membership.Role.APPLICANT)
            pending = JoinRequest.objects.filter(organisation=existing, user=actor, state=JoinRequest.State.PENDING)
            if (request := pending.first()) is not None:
                return request
            request = JoinRequest.objects.create(organisation=existing, user=actor)
            notify(
                kind="join_requested", reference=f"organisation:{existing.pk}",
                recipients=_signatory_people(existing.pk), link=_organisation_link(existing),
                context={"person": _name(actor), "organisation": existing.name},
            )
            return request
    except IntegrityError:
        # Someone registered the same organisationsnummer at the same moment.
        raise TransitionNotAllowed(_("Organisationen registrerades samtidigt av någon annan. Försök igen.")) from None


def join_request_decide(*, actor: Actor, organisation: Organisation, request_id, approve: bool) -> JoinRequest:
    """A firmatecknare/ombud with a confirmed mandate lets the person in (as sökande), or not."""
    with transaction.atomic():
        organisation = _lock_organisation(organisation.pk)
        try:
            request = JoinRequest.objects.select_for_update(of=("self",)).select_related("user").get(
                pk=request_id, organisation=organisation
            )
        except (JoinRequest.DoesNotExist, ValidationError, ValueError):
            raise NotFound(_("Begäran finns inte.")) from None
        _require_signing(actor, organisation.pk)
        if request.state != JoinRequest.State.PENDING:
            raise TransitionNotAllowed(_("Begäran är redan avgjord."))
        request.state = JoinRequest.State.APPROVED if approve else JoinRequest.State.DECLINED
        request.decided_by, request.decided_at = actor, timezone.now()
        request.save(update_fields=["state", "decided_by", "decided_at"])
        carried = False
        if approve:
            membership, _created = Membership.objects.get_or_create(
                organisation=organisation, user=request.user, defaults={"role": Membership.Role.APPLICANT}
            )
            carried = _proof_carry(membership=membership, request=request)
        notify(
            kind="join_decided", reference=f"organisation:{organisation.pk}",
            recipients=[Recipient(email=request.user.email, user_id=request.user_id)],
            link=_organisation_link(organisation),
            context={"organisation": organisation.name, "approved": approve, "carried": carried,
                     "decided_by": _name(actor), "proof_sent": request.mandate_state == Membership.Mandate.REQUESTED},
        )
        return request


def _proof_carry(*, membership: Membership, request: JoinRequest) -> bool:
    """A join request let in by the organisation while its proof waits for Brå: the proof
    waits on as the new member's mandate request (in the caller's transaction). Whether it did."""
    if request.mandate_state != Membership.Mandate.REQUESTED:
        return False
    locked = Membership.objects.select_for_update(of=("self",)).get(pk=membership.pk)
    if locked.mandate_state not in (Membership.Mandate.MISSING, Membership.Mandate.REJECTED):
        return False
    _mandate_from(request, locked)
    return True


def _mandate_from(request: JoinRequest, membership: Membership, *, confirmed_by=None, at=None) -> None:
    """The membership's mandate is the join request's proof: waiting for Brå, or confirmed."""
    membership.role = Membership.Role.SIGNATORY
    membership.mandate_state = Membership.Mandate.CONFIRMED if confirmed_by else Membership.Mandate.REQUESTED
    membership.mandate_document_id = request.mandate_document_id
    membership.mandate_requested_at = request.mandate_requested_at
    membership.mandate_confirmed_by, membership.mandate_confirmed_at = confirmed_by, at
    membership.save()


def invitation_send(
    *, actor: Actor, organisation: Organisation, email: str, role: str, accept_url: Callable[[str], str]
) -> Invitation:
    """Invite a person by e-mail. The link's token is single-use and expires; only its hash
    is stored. `accept_url(token)` gives the absolute address of the acceptance page."""
    if role not in Membership.Role.values:
        raise ValidationFailed(_("Välj en roll."), details={"field": "role"})
    email = email.strip()
    with transaction.atomic():
        organisation = _lock_organisation(organisation.pk)
        _require_signing(actor, organisation.pk)
        token = secrets.token_urlsafe(32)
        expires = timezone.now() + timedelta(days=INVITATION_DAYS)
        invitation = Invitation.objects.create(
            organisation=organisation, email=email, role=role, token_hash=token_hash(token), invited_by=actor,
            expires_at=expires,
        )
        label = Membership.Role(role).label
        notify(
            kind="invitation", reference=f"organisation:{organisation.pk}", recipients=[Recipient(email=email)],
            context={"inviter": _name(actor), "organisation": organisation.name, "role": label,
                     "days": INVITATION_DAYS, "accept_url": accept_url(token)},
        )
        return invitation


def invitation_revoke(*, actor: Actor, organisation: Organisation, invitation_id) -> Invitation:
    """A confirmed firmatecknare takes back an invitation not yet accepted: its link stops
    working. Another organisation's invitation, or none, is NotFound."""
    with transaction.atomic():
        _lock_organisation(organisation.pk)
        _require_signing(actor, organisation.pk)
        invitation = (
            Invitation.objects.select_for_update(of=("self",))
            .filter(pk=invitation_id, organisation_id=organisation.pk).first()
        )
        if invitation is None:
            raise NotFound(_("Inbjudan finns inte."))
        if invitation.accepted_at is not None or invitation.revoked_at is not None:
            raise TransitionNotAllowed(_("Inbjudan är redan använd eller återkallad."))
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
        return invitation


def invitation_for_token(*, token: str) -> Invitation:
    """The invitation a link names, or NotFound: one with a tampered or unknown token."""
    invitation = Invitation.objects.select_related("organisation").filter(token_hash=token_hash(token)).first()
    if invitation is None:
        raise NotFound(_("Inbjudan finns inte. Kontrollera att du har använt hela länken i e-postmeddelandet."))
    return invitation


def invitation_problem(*, actor: Actor, invitation: Invitation):
    """Why `actor` cannot accept `invitation` now, in words, or None."""
    if invitation.accepted_at is not None:
        return _("Inbjudan har redan använts. Varje inbjudan gäller en gång; be om en ny.")
    if invitation.revoked_at is not None:
        return _("Inbjudan har återkallats.")
    if invitation.expires_at <= timezone.now():
        return _("Inbjudan har gått ut. Be firmatecknaren om en ny.")
    if actor.email and actor.email.casefold() != invitation.email.casefold():
        return _("Inbjudan gäller en annan e-postadress än den ditt konto har. Logga in med rätt konto.")
    return None


def invitation_accept(*, actor: Actor, token: str) -> Membership:
    """Accept while logged in: the membership is made (or given the invited role), the
    invitation spent. An account without an e-mail address (an e-ID gives none) takes the
    invitation's, whose mailbox the link went to."""
    with transaction.atomic():
        found = invitation_for_token(token=token)
        invitation = Invitation.objects.select_for_update(of=("self",)).get(pk=found.pk)
        problem = invitation_problem(actor=actor, invitation=invitation)
        if problem is not None:
            raise TransitionNotAllowed(problem)
        now = timezone.now()
        invitation.accepted_by, invitation.accepted_at = actor, now
        invitation.save(update_fields=["accepted_by", "accepted_at"])
        if not actor.email:
            actor.email = invitation.email
            actor.save(update_fields=["email"])
        _lock_organisation(invitation.organisation_id)
        membership, created = Membership.objects.get_or_create(
            organisation_id=invitation.organisation_id, user=actor, defaults={"role": invitation.role}
        )
        if not created and invitation.role == Membership.Role.SIGNATORY and membership.role != invitation.role:
            membership.role = Membership.Role.SIGNATORY  # the mandate is still to be proven
            membership.save(update_fields=["role"])
        pending = JoinRequest.objects.select_for_update(of=("self",)).filter(
            organisation_id=invitation.organisation_id, user=actor, state=JoinRequest.State.PENDING
        )
        for request in pending:  # one at most (join_request_one_pending)
            request.state, request.decided_by, request.decided_at = JoinRequest.State.APPROVED, invitation.invited_by, now
            request.save(update_fields=["state", "decided_by", "decided_at"])
            _proof_carry(membership=membership, request=request)
        membership.refresh_from_db()
        return membership


def membership_remove(*, actor: Actor, organisation: Organisation, membership_key) -> None:
    """A firmatecknare/ombud with a confirmed mandate removes a member; anyone may leave.
    The last one with a confirmed mandate cannot remove themselves: the organisation would
    have nobody left to let others in."""
    with transaction.atomic():
        organisation = _lock_organisation(organisation.pk)
        try:
            target = Membership.objects.get(key=membership_key, organisation=organisation)
        except (Membership.DoesNotExist, ValidationError, ValueError):
            raise NotFound(_("Medlemmen finns inte.")) from None
        if target.user_id != actor.pk:
            _require_signing(actor, organisation.pk)
        elif target.may_sign and not _signing(organisation.pk).exclude(pk=target.pk).exists():
            raise TransitionNotAllowed(
                _("Du är organisationens enda firmatecknare med bekräftad behörighet och kan inte ta bort dig själv. "
                  "Låt någon annan få sin behörighet bekräftad först.")
            )
        target.delete()


def mandate_request(*, actor: Actor, organisation: Organisation, uploaded_file) -> Membership:
    """A member asks to sign for the organisation, with the proof attached (a PDF: the
    delegation extract or board minutes). The file is stored before any row is locked."""
    membership = Membership.objects.filter(organisation_id=organisation.pk, user=actor).first()
    if membership is None:
        raise NotFound(_("Organisationen finns inte."))
    _require_may_request(membership)
    case, stored = _proof_stored(actor=actor, organisation=organisation, uploaded_file=uploaded_file)
    try:
        with transaction.atomic():
            locked = Membership.objects.select_for_update(of=("self",)).get(pk=membership.pk)
            _require_may_request(locked)
            document = _proof_recorded(actor=actor, organisation=organisation, case=case, stored=stored)
            locked.role = Membership.Role.SIGNATORY
            locked.mandate_state = Membership.Mandate.REQUESTED
            locked.mandate_document = document
            locked.mandate_requested_at = timezone.now()
            locked.mandate_confirmed_by = locked.mandate_confirmed_at = None
            locked.save(update_fields=["role", "mandate_state", "mandate_document", "mandate_requested_at",
                                       "mandate_confirmed_by", "mandate_confirmed_at"])
            return locked
    except BaseException:
        _proof_dropped(case, stored)
        raise


def _proof_stored(*, actor: Actor, organisation: Organisation, uploaded_file) -> tuple[Case, StoredUpload]:
    """A proof of a mandate (a PDF) stored under a case of its own, before any row is locked."""
    _require_pdf(uploaded_file)
    case = case_create(actor=actor, title=f"Behörighet att teckna {organisation.name}"[:300],
                       counterpart=organisation.name)
    try:
        return case, upload_store(case_id=case.pk, uploaded_file=uploaded_file)
    except BaseException:
        Case.objects.filter(pk=case.pk).delete()  # nothing was stored for it
        raise


def _proof_dropped(case: Case, stored: StoredUpload) -> None:
    """After a rolled-back recording: the object and its empty case go."""
    upload_discard(stored)
    Case.objects.filter(pk=case.pk).delete()


def _proof_recorded(*, actor: Actor, organisation: Organisation, case: Case, stored: StoredUpload) -> Attachment:
    """In the caller's transaction: the stored proof's row. A proof is a document received by
    Brå (an allmän handling): its case gets a diarienummer and the proof an incoming diarium
    entry (OSL 5 kap. 1 §)."""
    document = attachment_record(actor=actor, case=case, stored=stored, kind=AttachmentKind.BEHORIGHET)
    case = case_assign_diarienummer(actor=actor, case=case)
    diarium_entry_add(
        actor=actor, case=case, direction=DiariumEntry.Direction.INCOMING, counterpart=organisation.name,
        description=f"Bevis om behörighet att teckna {organisation.name} från {_name(actor)}", attachment=document,
        # The public diarium names no private person (the member who sent the proof).
        public_description=f"Bevis om behörighet att teckna {organisation.name}",
    )
    return document


def _ruling_record(*, actor: Actor, organisation: Organisation, person, document_id, confirm: bool, reasons: str,
                   at) -> MandateDecision:
    """The registrar's ruling on a proof, recorded append-only, and noted as an outgoing
    diarium entry on the proof's case; in the caller's transaction."""
    decision = MandateDecision.objects.create(
        organisation=organisation, user=person, document_id=document_id,
        outcome=MandateDecision.Outcome.CONFIRMED if confirm else MandateDecision.Outcome.REJECTED,
        reasons=reasons, decided_by=actor, decided_at=at,
    )
    if decision.document is not None:
        diarium_entry_add(
            actor=actor, case=decision.document.case, direction=DiariumEntry.Direction.OUTGOING,
            counterpart=organisation.name,
            description=f"Behörighet att teckna {organisation.name} för {_name(person)}: "
                        f"{'bekräftad' if confirm else 'inte bekräftad'}",
            public_description=f"Prövning av behörighet att teckna {organisation.name}",
        )
    return decision


def _require_pdf(uploaded_file) -> None:
    """The proof is a PDF by name; upload_store then checks the content is one."""
    if not (uploaded_file.name or "").lower().endswith(".pdf"):
        raise ValidationFailed(
            _("Beviset ska vara en PDF (utdrag ur delegationsordningen eller protokoll)."),
            code=ErrorCode.UPLOAD_REJECTED, details={"field": "document"},
        )


def _require_may_request(membership: Membership) -> None:
    if membership.mandate_state == Membership.Mandate.CONFIRMED:
        raise TransitionNotAllowed(_("Din behörighet att teckna organisationen är redan bekräftad."))
    if membership.mandate_state == Membership.Mandate.REQUESTED:
        raise TransitionNotAllowed(_("Din begäran väntar redan på Brås registrator."))


def _require_registrar(actor) -> None:
    roles = user_roles(actor)
    if actor.is_superuser or roles & NEVER_WRITE or Role.REGISTRAR not in roles:
        raise NotAllowed(_("Endast Brås registrator prövar behörigheter."))


def mandate_decide(*, actor: Actor, membership_key, confirm: bool, reasons: str = "") -> MandateDecision:
    """Brå's registrar confirms or rejects a requested mandate; recorded append-only with who
    and when. A registrar who is a member of the organisation may not rule on it (jäv)."""
    _require_registrar(actor)
    reasons = reasons.strip()
    if not confirm and not reasons:
        raise ValidationFailed(_("Ange skälen till att behörigheten inte bekräftas."), details={"field": "reasons"})
    with transaction.atomic():
        try:
            membership = Membership.objects.select_for_update(of=("self",)).get(key=membership_key)
        except (Membership.DoesNotExist, ValidationError, ValueError):
            raise NotFound(_("Begäran finns inte.")) from None
        if Membership.objects.filter(organisation_id=membership.organisation_id, user=actor).exists():
            raise NotAllowed(
                _("Du är medlem i organisationen och får inte pröva dess behörigheter (jäv, FL 16 §)."),
                code=ErrorCode.CONFLICT_OF_INTEREST,
            )
        if membership.mandate_state != Membership.Mandate.REQUESTED:
            raise TransitionNotAllowed(_("Begäran är redan prövad."))
        now = timezone.now()
        if confirm:
            membership.mandate_state = Membership.Mandate.CONFIRMED
            membership.mandate_confirmed_by, membership.mandate_confirmed_at = actor, now
        else:
            membership.mandate_state = Membership.Mandate.REJECTED
        membership.save(update_fields=["mandate_state", "mandate_confirmed_by", "mandate_confirmed_at"])
        organisation = membership.organisation
        decision = _ruling_record(actor=actor, organisation=organisation, person=membership.user,
                                  document_id=membership.mandate_document_id, confirm=confirm, reasons=reasons, at=now)
        notify(
            kind="mandate_decided", reference=f"organisation:{organisation.pk}",
            recipients=[Recipient(email=membership.user.email, user_id=membership.user_id)],
            link=_organisation_link(organisation),
            context={"organisation": organisation.name, "confirmed": confirm, "reasons": reasons},
        )
        return decision


# --- A join request with proof of the mandate, decided by Brå's registrar.


def _require_may_prove(request: JoinRequest) -> None:
    if request.state != JoinRequest.State.PENDING:
        raise TransitionNotAllowed(_("Begäran är redan avgjord."))
    if request.mandate_state == Membership.Mandate.REQUESTED:
        raise TransitionNotAllowed(_("Ditt bevis väntar redan på Brås registrator."))


def join_mandate_request(*, actor: Actor, join_request_id, uploaded_file) -> JoinRequest:
    """The person whose join request waits attaches proof that they may sign for the
    organisation (a PDF: delegation extract or board minutes) for Brå's registrar; again after
    a rejection. Another person's request is NotFound. Stored before any row is locked."""
    request = join_request_of(actor=actor, join_request_id=join_request_id)
    _require_may_prove(request)
    organisation = request.organisation
    case, stored = _proof_stored(actor=actor, organisation=organisation, uploaded_file=uploaded_file)
    try:
        with transaction.atomic():
            _lock_organisation(organisation.pk)  # the order join_request_decide takes: organisation, request
            locked = JoinRequest.objects.select_for_update(of=("self",)).get(pk=request.pk)
            _require_may_prove(locked)
            document = _proof_recorded(actor=actor, organisation=organisation, case=case, stored=stored)
            locked.mandate_state = Membership.Mandate.REQUESTED
            locked.mandate_document = document
            locked.mandate_requested_at = timezone.now()
            locked.save(update_fields=["mandate_state", "mandate_document", "mandate_requested_at"])
            return locked
    except BaseException:
        _proof_dropped(case, stored)
        raise


def join_mandate_decide(*, actor: Actor, join_request_id, confirm: bool, reasons: str = "") -> MandateDecision:
    """Brå's registrar decides a join request's proof, as mandate_decide a member's, recorded
    append-only. Confirmed: the person is a member as firmatecknare with a confirmed mandate,
    the request approved by the registrar. Rejected, with reasons: the request still waits for
    the organisation's firmatecknare (admitting a sökande is the organisation's call, not
    Brå's), and a new proof may come. Jäv: not a member of it, nor the one who asked."""
    _require_registrar(actor)
    reasons = reasons.strip()
    if not confirm and not reasons:
        raise ValidationFailed(_("Ange skälen till att behörigheten inte bekräftas."), details={"field": "reasons"})
    with transaction.atomic():
        try:
            organisation_id = (
                JoinRequest.objects.filter(pk=join_request_id, mandate_document__isnull=False)
                .values_list("organisation_id", flat=True).first()
            )
        except (ValidationError, ValueError):
            organisation_id = None
        if organisation_id is None:
            raise NotFound(_("Begäran finns inte."))
        organisation = _lock_organisation(organisation_id)
        request = JoinRequest.objects.select_for_update(of=("self",)).select_related("user").get(pk=join_request_id)
        if request.user_id == actor.pk:
            raise NotAllowed(_("Du har själv bett om medlemskap och får inte pröva ditt eget bevis (jäv, FL 16 §)."),
                             code=ErrorCode.CONFLICT_OF_INTEREST)
        if Membership.objects.filter(organisation=organisation, user=actor).exists():
            raise NotAllowed(_("Du är medlem i organisationen och får inte pröva dess behörigheter (jäv, FL 16 §)."),
                             code=ErrorCode.CONFLICT_OF_INTEREST)
        if request.state != JoinRequest.State.PENDING:
            raise TransitionNotAllowed(_("Begäran är redan avgjord."))
        if request.mandate_state != Membership.Mandate.REQUESTED:
            raise TransitionNotAllowed(_("Begäran är redan prövad."))
        now = timezone.now()
        signatories = _signatory_people(organisation.pk)  # those there before, told who came in
        if confirm:
            membership = (
                Membership.objects.select_for_update(of=("self",))
                .filter(organisation=organisation, user_id=request.user_id).first()
            ) or Membership(organisation=organisation, user_id=request.user_id)
            _mandate_from(request, membership, confirmed_by=actor, at=now)
            request.state = JoinRequest.State.APPROVED
            request.decided_by, request.decided_at = actor, now
            request.mandate_state = Membership.Mandate.CONFIRMED
        else:
            request.mandate_state = Membership.Mandate.REJECTED
        request.save(update_fields=["state", "decided_by", "decided_at", "mandate_state"])
        decision = _ruling_record(actor=actor, organisation=organisation, person=request.user,
                                  document_id=request.mandate_document_id, confirm=confirm, reasons=reasons, at=now)
        notify(
            kind="join_mandate_decided", reference=f"organisation:{organisation.pk}",
            recipients=[Recipient(email=request.user.email, user_id=request.user_id)],
            link=_organisation_link(organisation),
            context={"organisation": organisation.name, "confirmed": confirm, "reasons": reasons},
        )
        if confirm:
            notify(
                kind="signatory_joined", reference=f"organisation:{organisation.pk}", recipients=signatories,
                link=_organisation_link(organisation),
                context={"person": _name(request.user), "organisation": organisation.name,
                         "contact": settings.BIDRAG_CONTACT_EMAIL},
            )
        return decision


# Reads for the join requests with proof: the person's own, the registrar's queue, the proof.

def join_request_of(*, actor: Actor, join_request_id) -> JoinRequest:
    """The actor's own join request, whatever its state: another person's, or none, is NotFound."""
    try:
        return JoinRequest.objects.select_related("organisation").get(pk=join_request_id, user_id=actor.pk)
    except (JoinRequest.DoesNotExist, ValidationError, ValueError):
        raise NotFound(_("Begäran finns inte.")) from None


def join_requests_pending_of(*, actor: Actor) -> QuerySet[JoinRequest]:
    """The actor's own pending join requests, each with whether anyone in the organisation may
    approve it (`has_signatory`: a confirmed firmatecknare) and, for a rejected proof, the
    registrar's reasons (`mandate_rejection`)."""
    if not actor.is_authenticated:
        return JoinRequest.objects.none()
    rejection = MandateDecision.objects.filter(
        organisation_id=OuterRef("organisation_id"), user_id=OuterRef("user_id"),
        document_id=OuterRef("mandate_document_id"), outcome=MandateDecision.Outcome.REJECTED,
    ).order_by("-decided_at")
    return (
        JoinRequest.objects.filter(user_id=actor.pk, state=JoinRequest.State.PENDING)
        .select_related("organisation", "mandate_document")
        .annotate(
            has_signatory=Exists(_signing(OuterRef("organisation_id"))),
            mandate_rejection=Subquery(rejection.values("reasons")[:1]),
        )
        .order_by("created_at", "pk")
    )


def _is_registrar(actor) -> bool:
    return actor.is_authenticated and Role.REGISTRAR in user_roles(actor)


def join_mandate_queue(*, actor: Actor) -> QuerySet[JoinRequest]:
    """Pending join requests whose proof waits, oldest first, for Brå's registrar only; each
    with `registrar_barred` (the registrar is a member of the organisation or the one who
    asked: jäv) and `has_signatory` (the organisation has a confirmed firmatecknare)."""
    if not _is_registrar(actor):
        return JoinRequest.objects.none()
    member = Membership.objects.filter(organisation_id=OuterRef("organisation_id"), user_id=actor.pk)
    return (
        JoinRequest.objects.filter(state=JoinRequest.State.PENDING, mandate_state=Membership.Mandate.REQUESTED)
        .select_related("organisation", "user", "mandate_document")
        .annotate(
            registrar_barred=ExpressionWrapper(Q(Exists(member)) | Q(user_id=actor.pk), output_field=BooleanField()),
            has_signatory=Exists(_signing(OuterRef("organisation_id"))),
        )
        .order_by("mandate_requested_at", "pk")
    )


def join_mandate_document_get(*, actor: Actor, attachment_id) -> Attachment:
    """A proof attached to a join request: for Brå's registrar and the person who asked,
    else NotFound. (Once ruled on, or carried to a membership, mandate_document_get finds it.)"""
    if not actor.is_authenticated:
        raise NotFound(_("Beviset finns inte."))
    requests = JoinRequest.objects.filter(mandate_document_id=OuterRef("pk"))
    if not _is_registrar(actor):
        requests = requests.filter(user_id=actor.pk)
    try:
        return Attachment.objects.filter(Exists(requests)).get(pk=attachment_id)
    except (Attachment.DoesNotExist, ValidationError, ValueError):
        raise NotFound(_("Beviset finns inte.")) from None
