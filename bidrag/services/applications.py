"""Drafts, submission, registration, supplements, communication, withdrawal."""

from datetime import date
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from arenden.actors import Actor
from arenden.calendar import working_deadline
from arenden.errors import ErrorCode, NotAllowed, NotFound, TransitionNotAllowed, ValidationFailed
from arenden.formatting import moment, money
from arenden.journal import journal_append
from arenden.models import Case, DiariumEntry
from arenden.services import case_assign_diarienummer, case_create
from arenden.storage import StoredUpload, attachment_record
from notifications.messages import Recipient, notify

from ..completeness import OTHER, checklist_labels
from ..events import Event
from ..locks import lock_application
from ..models import Application, BudgetLine, Call, CallTrack, Membership, Organisation, Proposal
from ..models.application import AttachmentKind, Status
from ..submitted import freeze
from .common import diarise, notify_applicant, require_door, require_member, transition

# What the steps of the draft edit (bidrag/steps.py says which step asks for which).
DRAFT_FIELDS = (
    "title",
    "track",
    "purpose",
    "need",
    "goals",
    "target_group",
    "method",
    "plan",
    "partners",
    "evaluator",
    "evaluator_has_phd",
    "other_state_grants_any",
    "other_state_grants",
    "other_state_grants_amount",
    "evaluation",
    "start_date",
    "end_date",
    "declares_not_existing_activity",
    "declares_not_statutory_duty",
    "declares_no_other_state_grant",
    "declares_no_excluded_costs",
    "declares_one_application",
    "declares_report_published",
)
# The largest amount a budget line holds: 12 digits, öre included (BudgetLine.amount).
MAX_AMOUNT = Decimal("9999999999.99")


def require_draft(application: Application) -> None:
    """A draft that may still be changed: not submitted (409) and not deleted (404, like a missing one)."""
    if application.deleted_at is not None:
        raise NotFound(_("Utkastet finns inte."))
    if application.status != Status.DRAFT:
        raise TransitionNotAllowed(_("Ansökan är redan inskickad och kan inte längre ändras."))


def _place_key(call_id, organisation_id) -> str:
    return f"{call_id}/{organisation_id}"


def place_taken_message(call: Call, organisation: Organisation) -> str:
    return _(
        "%(organisation)s har redan skickat in en ansökan i utlysningen %(call)s, och utlysningen tar "
        "emot en ansökan per organisation."
    ) % {"organisation": organisation.name, "call": call.title}


def place_taken(*, call: Call, organisation: Organisation, exclude: Application | None = None) -> bool:
    """Whether another application of the organisation holds the call's one place."""
    if not call.one_application_per_organisation:
        return False
    holders = Application.objects.filter(exclusive_key=_place_key(call.pk, organisation.pk))
    if exclude is not None:
        holders = holders.exclude(pk=exclude.pk)
    return holders.exists()


def _check_call_rules(*, call: Call, organisation: Organisation, application: Application | None = None) -> None:
    """The call's rules that decide whether the organisation may have a draft in it at all:
    checked when the draft is created or moved, so nothing is typed for a refusal at signing."""
    scheme = call.scheme
    if scheme.eligible_legal_forms and organisation.legal_form not in scheme.eligible_legal_forms:
        raise ValidationFailed(
            _("%(form)s kan inte söka %(scheme)s.")
            % {"form": organisation.get_legal_form_display(), "scheme": scheme.name},
            details={"field": "organisation"},
        )
    if place_taken(call=call, organisation=organisation, exclude=application):
        raise ValidationFailed(place_taken_message(call, organisation), details={"field": "organisation"})


def _check_track(*, call: Call, track: CallTrack | None) -> None:
    """A call with tracks needs one of its own; a call without tracks takes none."""
    if track is not None and track.call_id != call.pk:
        raise ValidationFailed(_("Välj en av den valda utlysningens inriktningar."), details={"field": "track"})
    if track is None and call.tracks.exists():
        raise ValidationFailed(_("Välj vilken inriktning i utlysningen ni söker inom."), details={"field": "track"})


def application_create(
    *, actor: Actor, organisation: Organisation, call: Call, title: str, track: CallTrack | None = None
) -> Application:
    """A new draft. The call's track (inriktning) is chosen now when the call has tracks; it
    may be changed while the application is a draft (the Projekt step)."""
    if not Membership.objects.filter(organisation=organisation, user=actor).exists():
        raise NotAllowed(_("Du företräder inte den sökande organisationen."))
    if not title.strip():
        raise ValidationFailed(_("Ange projektets namn."), details={"field": "title"})
    _check_call_rules(call=call, organisation=organisation)
    _check_track(call=call, track=track)
    with transaction.atomic():
        case = case_create(actor=actor, title=title.strip(), counterpart=organisation.name)
        application = Application.objects.create(
            case=case, call=call, organisation=organisation, title=title.strip(), created_by=actor, track=track
        )
        journal_append(
            actor=actor,
            case=case,
            action=Event.CREATE_DRAFT,
            to_state=application.status,
            payload={"call": call.title, "organisation": organisation.orgnr_display,
                     **({"track": track.name} if track is not None else {})},
        )
        return application


def application_update(*, actor: Actor, application: Application, data: dict) -> Application:
    """Save the draft fields in `data` (a step saves what of it was valid; the rest stays as
    it was). Drafts are not journaled field by field; submission freezes them. Saving works
    after the call has closed too: only submitting is refused then."""
    with transaction.atomic():
        application = lock_application(application.pk)
        require_member(actor, application)
        require_draft(application)
        if "track" in data and data["track"] is not None and data["track"].call_id != application.call_id:
            raise ValidationFailed(_("Välj en av utlysningens inriktningar."), details={"field": "track"})
        if "title" in data and not (data["title"] or "").strip():
            raise ValidationFailed(_("Ange projektets namn."), details={"field": "title"})
        for field in DRAFT_FIELDS:
            if field in data:
                setattr(application, field, data[field])
        changed = [f for f in DRAFT_FIELDS if f in data]
        if changed:
            application.save(update_fields=[*changed, "updated_at"])
        return application


def application_change_organisation(*, actor: Actor, application: Application, organisation: Organisation) -> Application:
    """Move a draft to another organisation the actor represents, with everything typed in it."""
    with transaction.atomic():
        application = lock_application(application.pk)
        require_member(actor, application)
        require_draft(application)
        if not Membership.objects.filter(organisation=organisation, user=actor).exists():
            raise ValidationFailed(
                _("Du företräder inte %(organisation)s.") % {"organisation": organisation.name},
                details={"field": "organisation"},
            )
        if organisation.pk == application.organisation_id:
            return application
        _check_call_rules(call=application.call, organisation=organisation, application=application)
        previous = application.organisation
        application.organisation = organisation
        application.save(update_fields=["organisation", "updated_at"])
        # A draft's case has no diarium entry yet; its counterpart follows the applicant.
        Case.objects.filter(pk=application.case_id).update(counterpart=organisation.name)
        journal_append(
            actor=actor,
            case_id=application.case_id,
            action=Event.CHANGE_ORGANISATION,
            from_state=application.status,
            to_state=application.status,
            payload={"from": previous.orgnr_display, "to": organisation.orgnr_display},
        )
        return application


def application_request_signature(*, actor: Actor, application: Application) -> Application:
    """A sökande hands a complete draft to the organisation's firmatecknare for signing.

    No state change: the draft stays a draft that anyone of the organisation may still edit;
    the request (who, when) is recorded on it and in the journal, and the signatories are
    mailed through the outbox in the same transaction.
    """
    with transaction.atomic():
        application = lock_application(application.pk)
        require_member(actor, application)
        require_draft(application)
        problems = submission_problems(application)
        if problems:
            raise ValidationFailed(
                _("Ansökan är inte komplett: %(problems)s") % {"problems": " ".join(map(str, problems))},
                code=ErrorCode.INCOMPLETE,
                details={"problems": [str(p) for p in problems]},
            )
        organisation = application.organisation
        signatories = list(
            Membership.objects.filter(Membership.SIGNING, organisation=organisation)
            .exclude(user__email="")
            .select_related("user")
            .order_by("user__last_name", "user__first_name", "user__username")
        )
        if not signatories:
            raise ValidationFailed(
                _("%(organisation)s har ingen firmatecknare med e-postadress i Bidragsportalen. Kontakta Brå.")
                % {"organisation": organisation.name}
            )
        now = timezone.now()
        application.signature_requested_at = now
        application.signature_requested_by = actor
        application.save(update_fields=["signature_requested_at", "signature_requested_by", "updated_at"])
        journal_append(
            actor=actor,
            case_id=application.case_id,
            action=Event.REQUEST_SIGNATURE,
            from_state=application.status,
            to_state=application.status,
            payload={"signatories": [m.user.get_full_name() or m.user.get_username() for m in signatories]},
        )
        call = application.call
        requester = actor.get_full_name() or actor.get_username()
        notify(
            kind="signature_requested",
            reference=f"application:{application.pk}",
            recipients=[Recipient(email=m.user.email, user_id=m.user_id) for m in signatories],
            context={
                "title": application.title, "organisation": organisation.name, "requester": requester,
                "requested_at": now, "call_title": call.title, "requested": application.requested_amount(),
                "closes_at": call.closes_at,
            },
            link=reverse("workflows:application_detail", args=[application.pk]),
        )
        return application


def budget_line_rules(*, application: Application, category: str, amount: Decimal | None, year: int | None) -> int | None:
    """The rules of a budget line, new or changed; returns the year to store.

    The amount is positive and fits the column (12 digits, öre included); the category is
    one the scheme pays for (GrantScheme.excluded_categories, refused with the rule named);
    a project over several calendar years puts each line in one of them, a project within
    one year stores none (it is that year). The ceiling is the budget's, not a line's: a
    total above it is shown beside the total and in the checklist, and nothing typed is lost.
    """
    if amount is None or amount <= 0:
        raise ValidationFailed(_("Beloppet måste vara större än noll."), details={"field": "amount"})
    if amount > MAX_AMOUNT or amount != amount.quantize(Decimal("0.01")):
        raise ValidationFailed(
            _("Beloppet är för stort eller har för många decimaler: högst %(max)s, med högst två decimaler.")
            % {"max": money(MAX_AMOUNT)},
            details={"field": "amount"},
        )
    if category not in BudgetLine.Category.values:
        raise ValidationFailed(_("Välj ett kostnadsslag."), details={"field": "category"})
    scheme = application.call.scheme
    for entry in scheme.excluded_categories or []:
        if isinstance(entry, dict) and entry.get("category") == category:
            raise ValidationFailed(
                _("%(category)s ingår inte i %(scheme)s: %(rule)s")
                % {"category": BudgetLine.Category(category).label, "scheme": scheme.name, "rule": entry.get("reason", "")},
                details={"field": "category"},
            )
    start, end = application.start_date, application.end_date
    if not start or not end or end < start:
        return year
    years = list(range(start.year, end.year + 1))
    if len(years) == 1:
        return None
    if year is None:
        raise ValidationFailed(
            _("Välj vilket år kostnaden gäller: projektet pågår %(first)s–%(last)s.") % {"first": years[0], "last": years[-1]},
            details={"field": "year"},
        )
    if year not in years:
        raise ValidationFailed(
            _("Året %(year)s ligger utanför projektperioden %(first)s–%(last)s.")
            % {"year": year, "first": years[0], "last": years[-1]},
            details={"field": "year"},
        )
    return year


def budget_line_add(
    *, actor: Actor, application: Application, category: str, description: str, amount: Decimal, year: int | None = None
) -> BudgetLine:
    with transaction.atomic():
        application = lock_application(application.pk)
        require_member(actor, application)
        require_draft(application)
        year = budget_line_rules(application=application, category=category, amount=amount, year=year)
        return BudgetLine.objects.create(
            application=application, category=category, description=description.strip(), amount=amount, year=year
        )


def budget_line_remove(*, actor: Actor, application: Application, line_id) -> None:
    with transaction.atomic():
        application = lock_application(application.pk)
        require_member(actor, application)
        require_draft(application)
        removed, _by_model = application.budget_lines.filter(pk=line_id).delete()
        if not removed:
            raise NotFound(_("Budgetraden finns inte."))


def attachment_add(*, actor: Actor, application: Application, uploaded_file, kind: str):
    """Attach a file to a draft. A rejected upload leaves the draft exactly as it was.

    No S3 while the row is locked (DESIGN.md §3): the file is stored first, then the
    application is locked and the attachment recorded. The checks run twice: unlocked,
    so a refused upload is not stored for nothing, and under the lock, where they decide.
    """
    from arenden.storage import attachment_record, upload_discard, upload_store

    current = Application.objects.get(pk=application.pk)
    require_member(actor, current)
    require_draft(current)
    stored = upload_store(case_id=current.case_id, uploaded_file=uploaded_file)
    try:
        with transaction.atomic():
            locked = Application.objects.select_for_update(of=("self",)).select_related("case").get(pk=application.pk)
            require_member(actor, locked)
            require_draft(locked)
            attachment = attachment_record(actor=actor, case=locked.case, stored=stored, kind=kind)
    except BaseException:
        # The transaction has ended (rolled back): remove the object nothing refers to.
        upload_discard(stored)
        raise
    return attachment


def submission_problems(application: Application) -> list[str | Promise]:
    """What keeps a draft from being submitted, in words the applicant can act on: every
    step's checks (bidrag/steps.py) and the call's rules, as the summary step lists them."""
    from ..steps import all_problems, facts_for

    return [problem.message for problem in all_problems(facts_for(application))]


def application_submit(*, actor: Actor, application: Application, idempotency_key: str = "") -> Application:
    """Sign and submit a draft; the incoming application is diarised without delay (OSL 5:1)."""
    require_door()
    if idempotency_key and application.submit_key == idempotency_key and application.status != Status.DRAFT:
        return application  # the same submission arriving twice (double click, retry)
    if application.status != Status.DRAFT:
        raise TransitionNotAllowed(_("Ansökan är redan inskickad."))
    if application.deleted_at is not None:
        raise NotFound(_("Utkastet finns inte."))
    call = application.call
    now = timezone.now()
    if not call.is_open(now):
        closes = moment(call.closes_at)
        raise ValidationFailed(
            _("Utlysningen stängde %(closes)s. Ansökan kan inte längre skickas in.") % {"closes": closes},
            code=ErrorCode.CALL_CLOSED,
            details={"closes_at": call.closes_at.isoformat()},
        )
    if place_taken(call=call, organisation=application.organisation, exclude=application):
        # Told before the checklist, with the code the unique key's refusal below gives too.
        raise ValidationFailed(place_taken_message(call, application.organisation), code=ErrorCode.INVALID)
    problems = submission_problems(application)
    if problems:
        raise ValidationFailed(
            _("Ansökan är inte komplett: %(problems)s") % {"problems": " ".join(map(str, problems))},
            code=ErrorCode.INCOMPLETE,
            details={"problems": [str(p) for p in problems]},
        )
    if call.one_application_per_organisation:
        _take_the_organisations_place(application)
    requested = application.requested_amount()
    version = freeze(application, submitted_at=now, submitted_by=actor)  # what was signed, as sent
    transition(
        actor=actor,
        application=application,
        event=Event.SUBMIT,
        payload={"requested_amount": requested, "signed_by": actor.get_full_name() or actor.get_username(),
                 "content_sha256": version.sha256},
    )
    application.submitted_at = now
    application.submitted_by = actor
    application.submit_key = idempotency_key
    application.save(update_fields=["submitted_at", "submitted_by", "submit_key", "updated_at"])
    diarise(actor=actor, application=application, direction=DiariumEntry.Direction.INCOMING, description=f"Ansökan om ekonomiskt stöd: {application.title}", kind=DiariumEntry.Kind.APPLICATION)
    # Numbering last: the year's serial row stays locked until commit, and every submission
    # of the year queues on it, so as little as possible comes after it.
    case = case_assign_diarienummer(actor=actor, case=application.case)
    application.case = case
    notify_applicant(application=application, kind="submitted_receipt",
                     context={"submitted_at": now, "requested": requested})
    return application


def _take_the_organisations_place(application: Application) -> None:
    application.exclusive_key = _place_key(application.call_id, application.organisation_id)
    try:
        with transaction.atomic():
            application.save(update_fields=["exclusive_key"])
    except IntegrityError:
        raise ValidationFailed(
            _("Organisationen har redan skickat in en ansökan i den här utlysningen."), code=ErrorCode.INVALID
        ) from None


def application_register(*, actor: Actor, application: Application, note: str = "") -> Application:
    """The registrar confirms the registration and releases the case to handling."""
    return transition(actor=actor, application=application, event=Event.REGISTER, payload={"note": note})


def _ask_applicant(
    *, actor: Actor, application: Application, event: Event, kind: str, description: str, deadline: date,
    request_text: str, checklist: list[str] | None = None,
) -> Application:
    """Send the applicant a request with a deadline and wait for the answer (or the clock)."""
    require_door()
    if not request_text.strip():
        raise ValidationFailed(_("Beskriv vad som ska kompletteras eller vilket material som kommuniceras."))
    if deadline is None or deadline <= timezone.localdate():
        raise ValidationFailed(_("Svarsfristen måste ligga efter dagens datum."))
    # On a weekend or holiday (midsommarafton, julafton, nyårsafton too) the deadline is the
    # next working day (lag 1930:173); the page, the e-mail and the clock all read this date.
    deadline = working_deadline(deadline)
    transition(actor=actor, application=application, event=event,
               payload={"deadline": deadline, "request": request_text, **({"checklist": checklist} if checklist else {})})
    application.deadline = deadline
    application.deadline_request = request_text.strip()
    application.save(update_fields=["deadline", "deadline_request", "updated_at"])
    diarise(actor=actor, application=application, direction=DiariumEntry.Direction.OUTGOING, description=description,
            kind=DiariumEntry.Kind.LETTER)
    # A second request on the same case is told from the first by its subject (the deadline).
    notify_applicant(application=application, kind=kind, context={"deadline": deadline, "request_text": request_text})
    return application


def application_request_supplement(
    *, actor: Actor, application: Application, deadline: date, request_text: str = "", missing=()
) -> Application:
    """Ask for what is missing (bidrag.completeness): the ticked items, listed first in the
    request, and the officer's own words; "other" needs the words."""
    checklist = checklist_labels(application, list(missing))
    if OTHER in missing and not request_text.strip():
        raise ValidationFailed(_("Beskriv vad som avses med Annat."), details={"fields": {"request_text": [
            _("Beskriv vad som avses med Annat.")]}})
    if checklist:
        listed = "Följande behöver kompletteras:\n" + "\n".join(f"– {item}" for item in checklist)
        request_text = f"{listed}\n\n{request_text.strip()}" if request_text.strip() else listed
    return _ask_applicant(
        actor=actor,
        application=application,
        event=Event.REQUEST_SUPPLEMENT,
        kind="supplement_requested",
        description="Begäran om komplettering",
        deadline=deadline,
        request_text=request_text,
        checklist=checklist,
    )


def application_communicate(*, actor: Actor, application: Application, deadline: date, request_text: str) -> Application:
    """Communicate material before deciding (FL 25 §), with a deadline for comments."""
    return _ask_applicant(
        actor=actor,
        application=application,
        event=Event.COMMUNICATE,
        kind="communication",
        description="Kommunicering enligt 25 § förvaltningslagen",
        deadline=deadline,
        request_text=request_text,
    )


# What happens when the deadline passes without an answer, in the journal's own words:
# the case goes on with what it has ("i befintligt skick").
_AS_IS = {
    Status.AWAITING_SUPPLEMENT: "Ingen komplettering kom in inom svarsfristen. Ärendet handläggs vidare i befintligt skick.",
    Status.AWAITING_COMMENTS: "Inget yttrande kom in inom svarsfristen. Ärendet avgörs på befintligt underlag.",
}
_KINDS = {Status.AWAITING_SUPPLEMENT: DiariumEntry.Kind.SUPPLEMENT, Status.AWAITING_COMMENTS: DiariumEntry.Kind.OTHER}
_ANSWERS = {
    Status.AWAITING_SUPPLEMENT: ("receive_supplement", "Komplettering"),
    Status.AWAITING_COMMENTS: ("receive_comments", "Yttrande över kommunicerat material"),
}


def _receive(*, actor: Actor | None, application, event: Event, answer: str, stored_file: StoredUpload | None) -> Application:
    """The applicant's answer (actor set), or the clock once the deadline has passed."""
    require_door()
    if application.status not in _ANSWERS:
        raise TransitionNotAllowed(_("Brå väntar inte på något svar i ärendet."))
    status = application.status
    name, description = _ANSWERS[status]
    if actor is None and application.deadline and application.deadline >= timezone.localdate():
        raise ValidationFailed(_("Svarsfristen har inte gått ut."))
    if actor is not None and not answer.strip() and stored_file is None:
        raise ValidationFailed(_("Skriv ett svar eller bifoga en fil."))
    transition(
        actor=actor,
        application=application,
        event=event,
        name=name,
        payload={"answer": answer.strip(), "deadline_passed": actor is None,
                 **({"as_is": _AS_IS[status]} if actor is None else {})},
    )
    attachment = None
    if stored_file is not None:
        attachment = attachment_record(
            actor=actor, case=application.case, stored=stored_file, kind=AttachmentKind.SVAR
        )
    diarise(actor=actor, application=application, direction=DiariumEntry.Direction.INCOMING if actor else DiariumEntry.Direction.INTERNAL, description=description if actor else f"Svarsfristen gick ut utan svar ({description.lower()}); {_AS_IS[status]}"[:300], attachment=attachment,
            kind=_KINDS[status] if actor else DiariumEntry.Kind.OTHER)
    if actor is None:
        notify_applicant(application=application, kind="deadline_passed",
                         context={"deadline": application.deadline, "comments": status == Status.AWAITING_COMMENTS})
    application.deadline = None
    application.save(update_fields=["deadline", "updated_at"])
    return application


def application_receive_supplement(*, actor: Actor, application: Application, answer: str = "", stored_file=None):
    return _receive(
        actor=actor, application=application, event=Event.RECEIVE_SUPPLEMENT, answer=answer, stored_file=stored_file
    )


def application_receive_comments(*, actor: Actor, application: Application, answer: str = "", stored_file=None):
    return _receive(
        actor=actor, application=application, event=Event.RECEIVE_COMMENTS, answer=answer, stored_file=stored_file
    )


def application_deadline_passed(*, actor: None, application: Application) -> Application:
    """The clock: the answer's deadline passed without an answer; the case goes back."""
    require_door()
    if actor is not None:
        raise NotAllowed(_("Bara systemets klocka kan registrera att svarsfristen gått ut."))
    return _receive(actor=None, application=application, event=Event.DEADLINE_PASSED, answer="", stored_file=None)


def application_start_assessment(*, actor: Actor, application: Application) -> Application:
    return transition(actor=actor, application=application, event=Event.START_ASSESSMENT)


def application_withdraw(*, actor: Actor, application: Application, reason: str = "") -> Application:
    """The applicant withdraws; an open proposal is closed with it (nothing is left to decide)."""
    require_door()
    transition(actor=actor, application=application, event=Event.WITHDRAW, payload={"reason": reason})
    if application.exclusive_key:
        application.exclusive_key = None  # the organisation may apply again in the call
        application.save(update_fields=["exclusive_key"])
    Proposal.objects.filter(application=application, is_open=True).update(is_open=False)
    if application.case.diarienummer:
        diarise(actor=actor, application=application, direction=DiariumEntry.Direction.INCOMING, description="Återkallelse av ansökan")
    return application
