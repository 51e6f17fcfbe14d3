"""Reconsideration of a sent decision (FL 37–39 §§): a new decision, by a decision maker on a
case officer's proposal, that refers to the old one and may change its outcome and amount;
the old row stays as it was sent. Through the door and the pages, on real PostgreSQL."""

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from arenden.errors import ErrorCode, NotAllowed, TransitionNotAllowed, ValidationFailed
from arenden.journal import CaseEvent
from arenden.models import Case, DiariumEntry, JournalEvent
from bidrag.events import Event, journal_sentence
from bidrag.models import Appeal, Application, Decision, DetrimentGround, Proposal, Reconsideration
from bidrag.models.application import Status
from bidrag.roles import Role
from bidrag.services.letters import letter_issue
from notifications.models import OutboxMessage
from tests.domain import perform
from workflows import appeals, door, reconsiderations
from workflows.models import ApplicationProcess
from workflows.selectors import active_tasks

pytestmark = pytest.mark.django_db

REASONS = ("Vid omprövningen visar kommunens protokoll att verksamheten startade i år och inte ryms i "
           "socialförvaltningens ordinarie budget. Hela det sökta beloppet beviljas.")
LOWERED = ("Kommunen uppgav att samordnaren var nyanställd för projektet; lönelistan visar att tjänsten fanns "
           "redan före ansökan. Den delen av budgeten, 50 000 kr, beviljas därför inte.")
WHY = "Kommunen har kommit in med protokollet som visar att verksamheten är ny."


def _propose(cast, application, *, actor=None, **data):
    data = {"outcome": "granted", "amount": Decimal("300000"), "reasons": REASONS, "conditions": "", "why": WHY,
            **data}
    return perform(actor=actor or cast.officer, application=application, node=None,
                   action="propose_reconsideration", data=data)


def _decide(cast, application, *, actor=None, **data):
    return perform(actor=actor or cast.decision_maker, application=application, node="decide_reconsideration",
                   action="reconsider", data=data)


def _fresh(application) -> Application:
    return Application.objects.select_related("case").get(pk=application.pk)


def _row(decision) -> dict:
    return dict(Decision.objects.filter(pk=decision.pk).values().get())


def _letter_text(decision) -> str:
    letter = letter_issue(decision_id=decision.pk)
    content = default_storage.open(letter.file.name).read()
    return " ".join("".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages).split())


def _nodes(application) -> list[str]:
    return sorted(t.flow_task.name for t in active_tasks(application))


def test_fl37_reconsideration_refers_to_the_old_decision(make_application, cast, client):
    application = make_application(to=Status.REJECTED)
    old = application.decisions.get()
    sent = _row(old)

    proposal = _propose(cast, application)
    assert proposal.kind == Proposal.Kind.RECONSIDERATION and _nodes(application) == ["decide_reconsideration"]
    new = _decide(cast, application)

    assert _row(old) == sent  # the old decision as it was sent
    assert new.reconsiders == old and new.corrects is None
    assert (new.outcome, new.amount, new.reasons) == (Decision.Outcome.GRANTED, Decimal("300000"), REASONS)
    assert (new.decided_by, new.presented_by) == (cast.decision_maker, cast.officer)
    reconsideration = Reconsideration.objects.get(application=application)
    assert (reconsideration.origin, reconsideration.state, reconsideration.result) == (
        Reconsideration.Origin.INITIATIVE, Reconsideration.State.CHANGED, new)
    event = JournalEvent.objects.get(case_id=application.case_id, action=Event.RECONSIDER)
    assert event.payload["reconsiders"] == str(old.pk) and event.payload["decision"] == str(new.pk)
    assert journal_sentence(event).startswith("Berit Beslutsfattare ändrade beslutet efter omprövning")
    assert DiariumEntry.objects.filter(case=application.case, direction="out", kind=DiariumEntry.Kind.DECISION,
                                       description__startswith="Beslut efter omprövning").exists()
    notice = OutboxMessage.objects.filter(kind="decision").order_by("-created_at").first()
    assert notice.subject.startswith("Beslut: Beviljad") and "omprövat sitt beslut" in notice.body
    text = _letter_text(new)
    assert "Beslut efter omprövning" in text and "37 § förvaltningslagen" in text
    assert f"{timezone.localdate(old.decided_at).day}" in text

    client.force_login(cast.signatory)
    page = client.get(reverse("workflows:application_detail", args=[application.pk])).content.decode()
    assert "Beslutet ändrar efter omprövning beslutet" in page and "Omprövning av beslut" in page
    client.force_login(cast.officer)
    page = client.get(reverse("workflows:case_detail", args=[application.pk])).content.decode()
    assert 'id="omprovning"' in page and "Beslutet ändrat" in page


@pytest.mark.parametrize("state", [Status.REJECTED, Status.DISMISSED])
def test_fl37_rejected_case_reopens_to_payment(make_application, cast, state):
    application = make_application(to=state)
    assert application.case.closed_at is not None and _nodes(application) == []

    _propose(cast, application)
    assert _fresh(application).case.closed_at is None  # taken up again while it is reconsidered
    assert _fresh(application).status == state
    _decide(cast, application)

    application = _fresh(application)
    assert application.status == Status.GRANTED and application.case.closed_at is None
    assert _nodes(application) == ["prepare_payment"]
    assert ApplicationProcess.objects.get(application=application).status == "NEW"
    actions = list(JournalEvent.objects.filter(case_id=application.case_id).values_list("action", flat=True))
    assert actions.count(CaseEvent.REOPEN) == 1 and actions.count(CaseEvent.CLOSE) == 1
    # ... and on to payment, of the new amount, through the ordinary steps.
    disbursement = perform(actor=cast.officer, application=application, node="prepare_payment",
                           action="prepare_disbursement")
    assert disbursement.amount == Decimal("300000")
    perform(actor=cast.finance, application=application, node="attest_payment", action="attest_disbursement")
    perform(actor=cast.finance2, application=application, node="pay", action="pay_disbursement",
            data={"payment_reference": "PAIN-OMPR"})
    assert _fresh(application).status == Status.IN_PROGRESS and _nodes(application) == ["await_report"]


def test_fl37_grant_raised_before_payment_keeps_its_place(make_application, cast):
    application = make_application(to=Status.GRANTED)  # 250 000 kr of 300 000 kr asked
    [payment_step] = active_tasks(application)
    _propose(cast, application)
    assert _nodes(application) == ["decide_reconsideration", "prepare_payment"]
    new = _decide(cast, application)

    assert new.amount == Decimal("300000") and not new.detriment_ground
    assert [t.pk for t in active_tasks(application)] == [payment_step.pk]  # the same step, where it was
    assert _fresh(application).status == Status.GRANTED
    disbursement = perform(actor=cast.officer, application=application, node="prepare_payment",
                           action="prepare_disbursement")
    assert disbursement.amount == Decimal("300000")


def test_fl37_detriment_needs_a_ground(make_application, cast):
    application = make_application(to=Status.GRANTED)
    lowered = {"amount": Decimal("200000"), "reasons": LOWERED, "conditions": "Beviljat belopp är lägre än sökt."}
    with pytest.raises(ValidationFailed) as refused:
        _propose(cast, application, **lowered)
    assert refused.value.details["field"] == "detriment_ground" and "37 § andra stycket" in str(refused.value.message)
    assert not Proposal.objects.filter(application=application, kind=Proposal.Kind.RECONSIDERATION).exists()

    # FL 25 §: communicated to the applicant, and decided once they have answered
    # (tests/bidrag/test_fl25_reconsideration.py has the rest).
    _propose(cast, application, detriment_ground=DetrimentGround.MISLEADING,
             communication_deadline=timezone.localdate() + timedelta(days=14), **lowered)
    reconsiderations.comments(actor=cast.signatory, application_id=application.pk, answer="Vi har inget att tillägga.")
    new = _decide(cast, application)

    assert (new.amount, new.detriment_ground) == (Decimal("200000"), DetrimentGround.MISLEADING)
    text = _letter_text(new)
    assert "till er nackdel" in text and "vilseledande uppgifter" in text
    assert _nodes(application) == ["prepare_payment"]


def test_fl37_reasons_as_for_any_adverse_decision_and_a_real_change(make_application, cast):
    application = make_application(to=Status.REJECTED)
    old = application.decisions.get()
    with pytest.raises(ValidationFailed):  # FL 32 §: the call's minimum, without stock phrases
        _propose(cast, application, outcome="rejected", amount=None, reasons="Ansökan avslås.")
    with pytest.raises(ValidationFailed) as refused:  # nothing changes: that is an answer, not a decision
        _propose(cast, application, outcome="rejected", amount=None, reasons=old.reasons)
    assert "ändrar ingenting" in str(refused.value.message)
    assert not Reconsideration.objects.filter(application=application).exists()
    assert _fresh(application).case.closed_at is not None  # a refusal changed nothing


def test_fl37_four_eyes_mf21_participants_and_jav(make_application, cast):
    application = make_application(to=Status.REJECTED)
    User = type(cast.officer)
    both = User.objects.create_user("bada", first_name="Bo", last_name="Båda")
    both.groups.add(*Group.objects.filter(name__in=[Role.CASE_OFFICER, Role.DECISION_MAKER]))
    _propose(cast, application, actor=both)

    with pytest.raises(NotAllowed) as refused:  # the proposer does not decide
        _decide(cast, application, actor=both)
    assert refused.value.code == ErrorCode.FOUR_EYES
    with pytest.raises(NotAllowed):  # nor a case officer
        _decide(cast, application, actor=cast.officer)
    door.declare_conflict(actor=cast.officer2, application_id=application.pk, reason="Närstående")
    with pytest.raises(ValidationFailed):  # MF 21 §: a jäv-barred person does not take part
        _decide(cast, application, participants=[cast.officer2])

    new = _decide(cast, application, participants=[cast.registrar, cast.decision_maker])
    assert list(new.participants.all()) == [cast.registrar]  # the decider is recorded as such


def test_fl37_a_barred_decision_maker_is_refused(make_application, cast):
    application = make_application(to=Status.REJECTED)
    _propose(cast, application)
    door.declare_conflict(actor=cast.decision_maker, application_id=application.pk, reason="Jag sitter i styrelsen.")
    with pytest.raises(NotAllowed) as refused:
        _decide(cast, application)
    assert refused.value.code == ErrorCode.CONFLICT_OF_INTEREST
    assert _fresh(application).status == Status.REJECTED


def _register_appeal(cast, application):
    return appeals.register(actor=cast.registrar, application_id=application.pk,
                            decision_id=application.decisions.get().pk, received_on=timezone.localdate(),
                            notified_on=None, summary="Kommunen begär att avslaget ändras: verksamheten är ny.")


def test_fl38_appeal_prompts_reconsideration(make_application, cast, client):
    application = make_application(to=Status.REJECTED)
    appeal = _register_appeal(cast, application)
    client.force_login(cast.officer)
    page = client.get(reverse("workflows:case_detail", args=[application.pk])).content.decode()
    url = reverse("workflows:propose_reconsideration", args=[application.pk])
    assert "38 § förvaltningslagen" in page and f"{url}?overklagande={appeal.pk}" in page

    form = client.get(f"{url}?overklagande={appeal.pk}")
    assert form.status_code == 200 and "Överklagandet som kom in" in form.content.decode()
    response = client.post(url, {"outcome": "granted", "amount": "300000", "reasons": REASONS, "appeal": str(appeal.pk)})
    assert response.status_code == 302
    reconsideration = Reconsideration.objects.get(application=application)
    assert (reconsideration.origin, reconsideration.appeal) == (Reconsideration.Origin.APPEAL, appeal)
    assert reconsideration.text == appeal.summary
    client.force_login(cast.decision_maker)  # the decision maker meets it in the decide step
    assert "decide_reconsideration" in client.get(reverse("workflows:case_detail", args=[application.pk])).content.decode()


def test_fl39_appeal_covers_the_new_decision(make_application, cast, client):
    application = make_application(to=Status.REJECTED)
    appeal = _register_appeal(cast, application)
    _propose(cast, application, appeal=appeal.pk)
    new = _decide(cast, application)

    appeal.refresh_from_db()
    assert appeal.covers == new and appeal.state == Appeal.State.REGISTERED
    event = JournalEvent.objects.get(case_id=application.case_id, action=Event.RECONSIDER)
    assert event.payload["appeals"] == [str(appeal.pk)]
    client.force_login(cast.officer)
    page = client.get(reverse("workflows:case_detail", args=[application.pk])).content.decode()
    assert "Omfattar även beslutet" in page and "39 § förvaltningslagen" in page
    appeals.forward(actor=cast.officer, application_id=application.pk, appeal_id=appeal.pk)  # the court has both now


def test_fl37_no_change_after_forwarding(make_application, cast, client):
    application = make_application(to=Status.REJECTED)
    appeal = _register_appeal(cast, application)
    _propose(cast, application)  # proposed while the appeal waits...
    appeals.forward(actor=cast.officer, application_id=application.pk, appeal_id=appeal.pk)  # ...then forwarded
    with pytest.raises(TransitionNotAllowed) as refused:
        _decide(cast, application)
    assert "Förvaltningsrätten i Stockholm" in str(refused.value.message) and "ändrar det inte längre" in str(
        refused.value.message)
    assert application.decisions.count() == 1 and _fresh(application).status == Status.REJECTED

    perform(actor=cast.decision_maker, application=application, node="decide_reconsideration",
            action="return_proposal", data={"comment": "Domstolen har ärendet nu."})
    assert _fresh(application).case.closed_at is not None and _nodes(application) == []
    with pytest.raises(TransitionNotAllowed):
        _propose(cast, application)
    client.force_login(cast.signatory)
    response = client.post(reverse("workflows:request_reconsideration", args=[application.pk]), {"text": "Ändra."})
    assert response.status_code == 409 and "domstol" in response.content.decode().lower()


def test_fl37_what_this_build_does_not_reconsider_is_refused_in_words(make_application, cast, malmo):
    paid = make_application(to=Status.IN_PROGRESS, title="Utbetalt", organisation=malmo)
    with pytest.raises(TransitionNotAllowed) as refused:
        _propose(cast, paid, amount=Decimal("200000"), reasons=LOWERED, detriment_ground=DetrimentGround.MISLEADING,
                 conditions="Lägre belopp.")
    assert "redan utbetalt" in str(refused.value.message) and "återkrav" in str(refused.value.message)

    granted = make_application(to=Status.GRANTED, title="Förberedd")
    with pytest.raises(TransitionNotAllowed) as refused:  # the whole grant withdrawn
        _propose(cast, granted, outcome="rejected", amount=None, reasons=LOWERED,
                 detriment_ground=DetrimentGround.MISLEADING)
    assert "återkallas inte" in str(refused.value.message)
    perform(actor=cast.officer, application=granted, node="prepare_payment", action="prepare_disbursement")
    with pytest.raises(TransitionNotAllowed) as refused:
        _propose(cast, granted)
    assert "Stoppa utbetalningen" in str(refused.value.message)
    assert not Reconsideration.objects.filter(application__in=[paid, granted]).exists()


def test_fl37_the_applicant_asks_staff_register_letters_and_an_officer_answers(make_application, cast, client):
    application = make_application(to=Status.REJECTED)
    client.force_login(cast.signatory)
    detail = reverse("workflows:application_detail", args=[application.pk])
    asked = reverse("workflows:request_reconsideration", args=[application.pk])
    assert asked in client.get(detail).content.decode()
    assert client.post(asked, {"text": "Verksamheten är ny; se bifogat protokoll."}).status_code == 302
    request = Reconsideration.objects.get(application=application)
    assert (request.origin, request.requested_by, request.received_on) == (
        Reconsideration.Origin.REQUEST, cast.signatory, timezone.localdate())
    assert DiariumEntry.objects.filter(case=application.case, direction="in",
                                       description__startswith="Begäran om omprövning").exists()
    page = client.get(detail).content.decode()
    assert "Brå omprövar beslutet" in page and asked not in page  # one at a time
    client.force_login(cast.applicant)  # a sökande without signing rights may not ask
    assert client.post(asked, {"text": "Ändra."}).status_code == 403

    client.force_login(cast.officer)
    keep = reverse("workflows:keep_decision", args=[application.pk])
    assert keep in client.get(reverse("workflows:case_detail", args=[application.pk])).content.decode()
    assert client.post(keep, {"answer": "Protokollet visar att verksamheten pågått sedan 2022."}).status_code == 302
    request.refresh_from_db()
    assert request.state == Reconsideration.State.UNCHANGED and application.decisions.count() == 1
    client.force_login(cast.signatory)
    assert "Protokollet visar att verksamheten pågått sedan 2022." in client.get(detail).content.decode()
    assert Case.objects.get(pk=application.case_id).closed_at is not None  # nothing was taken up again

    client.force_login(cast.registrar)  # a request that came by post
    letter = reverse("workflows:register_reconsideration_letter", args=[application.pk])
    response = client.post(letter, {"text": "Brev från kommunen: begär omprövning.",
                                    "received_on": timezone.localdate().isoformat()})
    assert response.status_code == 302
    by_letter = Reconsideration.objects.filter(application=application, state="open").get()
    assert by_letter.requested_by is None and by_letter.opened_by == cast.registrar
    client.force_login(cast.auditor)
    assert client.post(letter, {"text": "x", "received_on": timezone.localdate().isoformat()}).status_code == 403


def test_fl37_the_applicant_who_asked_is_told_by_mail_and_notice_that_the_decision_stands(make_application, cast, client):
    from notifications.models import Notice
    from workflows import reconsiderations

    application = make_application(to=Status.REJECTED)
    reconsiderations.request(actor=cast.signatory, application_id=application.pk, text="Se bifogat protokoll.")
    before = set(OutboxMessage.objects.values_list("pk", flat=True))
    reconsiderations.keep(actor=cast.officer, application_id=application.pk, answer="Protokollet är från 2019.")
    sent = OutboxMessage.objects.exclude(pk__in=before).filter(kind="reconsideration_kept")
    assert sent.exists()
    message = sent.first()
    assert application.case.diarienummer in message.subject and "står fast" in message.subject
    assert "Protokollet är från 2019." in message.body and "37 § förvaltningslagen" in message.body
    assert Notice.objects.filter(kind="reconsideration_kept", user=cast.signatory).exists()


def test_fl38_a_second_look_on_bras_own_initiative_sends_the_applicant_nothing(make_application, cast):
    from workflows import reconsiderations

    application = make_application(to=Status.REJECTED)
    Reconsideration.objects.create(application=application, decision=application.decisions.get(),
                                   origin=Reconsideration.Origin.INITIATIVE, text="Egen granskning.",
                                   opened_by=cast.officer)
    reconsiderations.keep(actor=cast.officer, application_id=application.pk, answer="Inget fel i beslutet.")
    assert not OutboxMessage.objects.filter(kind="reconsideration_kept").exists()
