"""The rules a decision carries (issue 7): FL 32 § real reasons for a refusal (not stock
phrases, at least the call's minimum), FL 25 § communication before an adverse decision,
MF 21 § who took part, and FL 16 § no barred person among them."""

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from arenden.errors import NotAllowed, TransitionNotAllowed, ValidationFailed
from arenden.models import JournalEvent
from bidrag.events import Event
from bidrag.models import Application, Decision, Proposal
from bidrag.models.application import Status
from bidrag.services.letters import letter_issue
from tests.domain import NOT_COMMUNICATED, REFUSAL_REASONS, perform, refusal
from workflows import door

pytestmark = pytest.mark.django_db

STOCK = "Ansökan har inte prioriterats i konkurrens med andra ansökningar. Ansökan avslås."


def _propose(cast, application, **data):
    perform(actor=cast.officer, application=application, node="assess", action="propose_decision", data=data)


def _status(application) -> str:
    return Application.objects.get(pk=application.pk).status


def test_fl32_a_refusal_in_stock_phrases_only_is_refused(make_application, cast):
    application = make_application(to=Status.IN_ASSESSMENT)
    with pytest.raises(ValidationFailed) as refused:
        _propose(cast, application, **refusal(reasons=STOCK))
    assert refused.value.details["field"] == "reasons" and "FL 32 §" in str(refused.value.message)
    assert _status(application) == Status.IN_ASSESSMENT and not Proposal.objects.filter(application=application)
    # The same phrases with the real reason added are enough.
    _propose(cast, application, **refusal(reasons=f"{STOCK} {REFUSAL_REASONS}"))
    assert _status(application) == Status.DECISION_PROPOSED


def test_fl32_the_minimum_is_the_calls_setting(make_application, cast):
    application = make_application(to=Status.IN_ASSESSMENT)
    short = "Befintlig verksamhet enligt ansökans avsnitt 3."
    with pytest.raises(ValidationFailed):
        _propose(cast, application, **refusal(reasons=short))
    call = application.call
    call.reasons_min_length = 30
    call.save(update_fields=["reasons_min_length"])
    _propose(cast, application, **refusal(reasons=short))
    assert _status(application) == Status.DECISION_PROPOSED


def test_fl32_a_partial_grant_gives_reasons_for_what_it_refuses_a_full_grant_need_not(make_application, cast):
    application = make_application(to=Status.IN_ASSESSMENT, amount=300000)
    with pytest.raises(ValidationFailed) as refused:
        _propose(cast, application, outcome="granted", amount=Decimal("200000"), reasons="Relevant och genomförbart.",
                 conditions="Lägre belopp.", communication_waived=NOT_COMMUNICATED)
    assert refused.value.details["field"] == "reasons"
    _propose(cast, application, outcome="granted", amount=Decimal("300000"), reasons="Relevant och genomförbart.")
    assert _status(application) == Status.DECISION_PROPOSED


def test_fl25_an_adverse_proposal_follows_a_communication_or_says_why_not(make_application, cast):
    application = make_application(to=Status.IN_ASSESSMENT)
    with pytest.raises(ValidationFailed) as refused:
        _propose(cast, application, outcome="rejected", reasons=REFUSAL_REASONS)
    assert refused.value.details["field"] == "communication_waived" and "FL 25 §" in str(refused.value.message)
    soon = timezone.localdate() + timedelta(days=7)
    perform(actor=cast.officer, application=application, node="assess", action="communicate",
            data={"deadline": soon, "request_text": "Yttra er över bedömningen av verksamheten."})
    perform(actor=cast.applicant, application=application, node="await_comments", action="receive_comments",
            data={"answer": "Verksamheten är ny."})
    _propose(cast, application, outcome="rejected", reasons=REFUSAL_REASONS)  # communicated: no note needed
    proposal = Proposal.objects.get(application=application)
    assert proposal.communication_waived == ""


def test_fl25_decision_waits_for_open_communication(make_application, cast):
    application = make_application(to=Status.AWAITING_COMMENTS)
    with pytest.raises((NotAllowed, TransitionNotAllowed)):
        _propose(cast, application, **refusal())
    with pytest.raises((NotAllowed, TransitionNotAllowed)):
        perform(actor=cast.decision_maker, application=application, node="decide", action="decide")
    assert _status(application) == Status.AWAITING_COMMENTS and not Decision.objects.filter(application=application)


def test_mf21_who_took_part_is_recorded_on_the_decision_and_in_its_letter(make_application, cast):
    application = make_application(to=Status.IN_ASSESSMENT)
    _propose(cast, application, **refusal())
    perform(actor=cast.decision_maker, application=application, node="decide", action="decide",
            data={"participants": [cast.registrar, cast.officer2, cast.officer]})
    decision = Decision.objects.get(application=application)
    # The presenter is recorded as such, not again as a participant.
    assert set(decision.participants.all()) == {cast.registrar, cast.officer2}
    event = JournalEvent.objects.get(case_id=application.case_id, action=Event.DECIDE)
    assert sorted(event.payload["participants"]) == sorted([cast.registrar.pk, cast.officer2.pk])
    letter = letter_issue(decision_id=decision.pk)
    from django.core.files.storage import default_storage

    text = " ".join("".join(p.extract_text() for p in PdfReader(io.BytesIO(
        default_storage.open(letter.file.name).read())).pages).split())
    assert "I den slutliga handläggningen har även" in text
    for person in (cast.registrar, cast.officer2):
        assert (person.get_full_name() or person.get_username()) in text


def test_fl16_a_barred_person_is_never_recorded_as_taking_part(make_application, cast, client):
    application = make_application(to=Status.IN_ASSESSMENT)
    _propose(cast, application, **refusal())
    door.declare_conflict(actor=cast.officer2, application_id=application.pk, reason="Min make leder projektet.")
    with pytest.raises(ValidationFailed) as refused:
        perform(actor=cast.decision_maker, application=application, node="decide", action="decide",
                data={"participants": [cast.officer2]})
    assert refused.value.details["field"] == "participants"
    assert not Decision.objects.filter(application=application).exists()
    # The decision page does not even offer them.
    client.force_login(cast.decision_maker)
    page = client.get(reverse("workflows:task_action", args=[application.pk, "decide", "decide"])).content.decode()
    assert "MF 21 §" in page and (cast.registrar.get_full_name() or cast.registrar.username) in page
    assert f'value="{cast.officer2.pk}"' not in page
    # Nor the decider or the presenter, who are recorded as such.
    assert f'value="{cast.decision_maker.pk}"' not in page and f'value="{cast.officer.pk}"' not in page
