"""FL 25 § before a reconsideration to the applicant's detriment (FL 37 § second paragraph):
the proposal is communicated to the applicant with a deadline when it is made, and the
decision maker cannot decide it until the applicant has answered or the deadline has passed.
A reconsideration in the applicant's favour needs no communication. Through the door and
the pages, on real PostgreSQL."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from arenden.errors import TransitionNotAllowed, ValidationFailed
from arenden.models import DiariumEntry, JournalEvent
from bidrag.events import Event
from bidrag.models import Decision, DetrimentGround, Proposal, ReconsiderationCommunication
from bidrag.models.application import Status
from notifications.models import OutboxMessage
from tests.domain import perform
from workflows.selectors import active_tasks

pytestmark = pytest.mark.django_db

LOWERED = ("Kommunen uppgav att samordnaren var nyanställd för projektet; lönelistan visar att tjänsten fanns "
           "redan före ansökan. Den delen av budgeten, 50 000 kr, beviljas därför inte.")
RAISED = ("Vid omprövningen visar kommunens protokoll att verksamheten startade i år och inte ryms i "
          "socialförvaltningens ordinarie budget. Hela det sökta beloppet beviljas.")
WHY = "Revisionen visade att samordnartjänsten fanns redan före ansökan."
SOON = timezone.localdate() + timedelta(days=14)


def _lower(cast, application, **data):
    data = {"outcome": "granted", "amount": Decimal("200000"), "reasons": LOWERED,
            "conditions": "Beviljat belopp är lägre än sökt.", "why": WHY,
            "detriment_ground": DetrimentGround.MISLEADING, **data}
    return perform(actor=cast.officer, application=application, node=None, action="propose_reconsideration",
                   data=data)


def _decide(cast, application):
    return perform(actor=cast.decision_maker, application=application, node="decide_reconsideration",
                   action="reconsider", data={})


def _nodes(application) -> list[str]:
    return sorted(t.flow_task.name for t in active_tasks(application))


def test_fl25_detrimental_reconsideration_waits_for_communication(make_application, cast, client):
    application = make_application(to=Status.GRANTED)  # 250 000 kr granted
    with pytest.raises(ValidationFailed) as refused:  # no deadline: nothing is proposed
        _lower(cast, application)
    assert refused.value.details["field"] == "communication_deadline"
    assert "25 § förvaltningslagen" in str(refused.value.message)
    assert not Proposal.objects.filter(application=application, kind=Proposal.Kind.RECONSIDERATION).exists()
    with pytest.raises(ValidationFailed):  # a deadline that is already here gives no time to answer
        _lower(cast, application, communication_deadline=timezone.localdate())

    proposal = _lower(cast, application, communication_deadline=SOON,
                      communication_text="Brå vill veta vad ni har att säga om lönelistan.")

    communication = ReconsiderationCommunication.objects.get(proposal=proposal)
    assert communication.deadline >= SOON and communication.answered_at is None
    text = " ".join(communication.text.split())  # amounts are written with a no-break space
    assert "Beviljad, 200 000 kr" in text and "lönelistan" in text and "vilseledande uppgifter" in text
    assert DiariumEntry.objects.filter(case=application.case, direction="out",
                                       description__startswith="Kommunicering enligt 25 §").exists()
    event = JournalEvent.objects.filter(case_id=application.case_id, action=Event.COMMUNICATE).get()
    assert event.payload["communication"] == str(communication.pk)
    message = OutboxMessage.objects.filter(kind="communication").order_by("-created_at").first()
    assert message is not None and "200 000 kr" in " ".join(message.body.split())

    # The decision maker has the step, but may not decide while the applicant has time to answer.
    assert "decide_reconsideration" in _nodes(application)
    with pytest.raises(TransitionNotAllowed) as refused:
        _decide(cast, application)
    assert "25 § förvaltningslagen" in str(refused.value.message)
    assert not Decision.objects.filter(application=application, reconsiders__isnull=False).exists()

    # The same refusal on the page: a clear message, 409, nothing decided.
    client.force_login(cast.decision_maker)
    response = client.post(reverse("workflows:task_action",
                                   args=[application.pk, "decide_reconsideration", "reconsider"]), {})
    assert response.status_code == 409
    assert "yttra sig" in response.content.decode()
    assert not Decision.objects.filter(application=application, reconsiders__isnull=False).exists()

    # The applicant sees what is communicated, and the deadline, on the application's page.
    client.force_login(cast.applicant)
    page = client.get(reverse("workflows:application_detail", args=[application.pk])).content.decode()
    assert "Brå ger er möjlighet att yttra er" in page and "lönelistan" in page
    assert reverse("workflows:reconsideration_comments", args=[application.pk]) in page


@pytest.mark.parametrize("how", ["reply", "deadline"])
def test_fl25_detrimental_reconsideration_decided_after_reply_or_deadline(make_application, cast, client, how):
    application = make_application(to=Status.GRANTED)
    proposal = _lower(cast, application, communication_deadline=SOON)
    communication = ReconsiderationCommunication.objects.get(proposal=proposal)
    if how == "reply":
        client.force_login(cast.applicant)  # any member of the organisation answers, as before a decision
        response = client.post(reverse("workflows:reconsideration_comments", args=[application.pk]),
                               {"answer": "Tjänsten var vakant före projektet; se bifogat anställningsavtal."})
        assert response.status_code == 302
        communication.refresh_from_db()
        assert communication.answered_by == cast.applicant and "vakant" in communication.answer
        assert DiariumEntry.objects.filter(case=application.case, direction="in",
                                           description__startswith="Yttrande över förslag").exists()
        assert JournalEvent.objects.filter(case_id=application.case_id, action=Event.RECEIVE_COMMENTS).exists()
        response = client.post(reverse("workflows:reconsideration_comments", args=[application.pk]),
                               {"answer": "Ett till."})
        assert response.status_code == 409  # answered once
        client.force_login(cast.decision_maker)
        page = client.get(reverse("workflows:case_detail", args=[application.pk])).content.decode()
        assert "vakant" in page  # the answer is before the decision maker
    else:
        # The clock moves on: the last day to answer was yesterday, and nobody answered.
        ReconsiderationCommunication.objects.filter(pk=communication.pk).update(
            deadline=timezone.localdate() - timedelta(days=1))

    decision = _decide(cast, application)

    assert (decision.amount, decision.detriment_ground) == (Decimal("200000"), DetrimentGround.MISLEADING)
    event = JournalEvent.objects.get(case_id=application.case_id, action=Event.RECONSIDER)
    assert event.payload["communication"] == str(communication.pk)
    assert event.payload["communication_answered"] is (how == "reply")


def test_fl25_favourable_reconsideration_needs_no_communication(make_application, cast, client):
    application = make_application(to=Status.GRANTED)  # 250 000 kr of 300 000 kr: raised to all of it
    perform(actor=cast.officer, application=application, node=None, action="propose_reconsideration",
            data={"outcome": "granted", "amount": Decimal("300000"), "reasons": RAISED, "conditions": "",
                  "why": "Kommunen har visat att verksamheten är ny."})
    assert not ReconsiderationCommunication.objects.filter(proposal__application=application).exists()
    assert not JournalEvent.objects.filter(case_id=application.case_id, action=Event.COMMUNICATE).exists()

    decision = _decide(cast, application)  # at once

    assert decision.amount == Decimal("300000")
    # Nothing to answer, and a stranger to the organisation finds no page to answer on.
    client.force_login(cast.officer)
    response = client.post(reverse("workflows:reconsideration_comments", args=[application.pk]), {"answer": "x"})
    assert response.status_code == 404
    client.force_login(cast.signatory)
    response = client.post(reverse("workflows:reconsideration_comments", args=[application.pk]), {"answer": "x"})
    assert response.status_code == 409 and "väntar inte" in response.content.decode()
