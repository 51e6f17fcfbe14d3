"""Issue 7, batch decisions from the ranking: one decision (and one letter) per
application, each through the door with four eyes and jäv as the single decision, all in
one transaction: one refusal and none is decided, and the page says which one and why."""

import html
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from arenden.errors import ErrorCode
from arenden.models import Case, DiariumEntry, JournalEvent
from bidrag.models import Application, Decision, Organisation, Proposal
from bidrag.models.application import Status
from bidrag.models.assessment import criteria_of
from bidrag.roles import Role
from notifications.models import OutboxMessage
from tests.domain import perform, to_queue
from workflows import batch, door
from workflows.selectors import active_tasks

pytestmark = pytest.mark.django_db


@pytest.fixture
def proposals(make_application, cast):
    """Three proposals of three municipalities, each to grant 250 000 kr (workflows.demo)."""
    organisations = Organisation.objects.exclude(kommunkod="").order_by("kommunkod")[:3]
    return [make_application(to=Status.DECISION_PROPOSED, organisation=o, title=f"Projekt {i}")
            for i, o in enumerate(organisations)]


def snapshot(applications):
    ids = [a.pk for a in applications]
    cases = [a.case_id for a in applications]
    return (
        sorted(Application.objects.filter(pk__in=ids).values_list("pk", "status")),
        Decision.objects.filter(application_id__in=ids).count(),
        JournalEvent.objects.filter(case_id__in=cases).count(),
        DiariumEntry.objects.filter(case_id__in=cases).count(),
        OutboxMessage.objects.count(),
        sorted(Case.objects.filter(pk__in=cases).values_list("pk", "journal_seq", "closed_at")),
        sorted((t.pk, t.status) for a in applications for t in active_tasks(a)),
        Proposal.objects.filter(application_id__in=ids, is_open=True).count(),
    )


def with_roles(user, *roles):
    user.groups.add(*Group.objects.filter(name__in=roles))
    return type(user).objects.get(pk=user.pk)


def test_each_decision_has_its_own_decision_and_letter(proposals, cast, call, django_capture_on_commit_callbacks):
    before_outbox = OutboxMessage.objects.count()
    with django_capture_on_commit_callbacks() as delivered_after_commit:
        decisions = batch.decide_all(actor=cast.decision_maker, call=call, application_ids=[a.pk for a in proposals])
        # nothing was sent while the locks were held: the letters are rows, delivered after the commit
        assert not OutboxMessage.objects.filter(status=OutboxMessage.Status.SENT).exists()
    assert sorted(d.application_id for d in decisions) == sorted(a.pk for a in proposals)
    for application in proposals:
        decision = Decision.objects.get(application=application)
        assert (decision.outcome, decision.amount) == (Decision.Outcome.GRANTED, Decimal("250000"))
        assert (decision.decided_by, decision.presented_by) == (cast.decision_maker, cast.officer)
        assert Application.objects.get(pk=application.pk).status == Status.GRANTED
        letters = OutboxMessage.objects.filter(reference=f"application:{application.pk}", kind="decision")
        assert letters.exists() and all("Belopp: 250\u00a0000\u00a0kr" in m.body for m in letters)
        assert application.case.diarienummer in letters.first().subject
        assert DiariumEntry.objects.filter(case_id=application.case_id, direction=DiariumEntry.Direction.OUTGOING,
                                           description__startswith="Beslut").count() == 1
        assert JournalEvent.objects.filter(case_id=application.case_id, action="decide",
                                           actor_id=cast.decision_maker.pk).count() == 1
    assert OutboxMessage.objects.count() > before_outbox
    assert len(delivered_after_commit) >= len(proposals)
    # the flow moved on for each: finance's preparation step is open
    assert all([t.flow_task.name for t in active_tasks(a)] == ["prepare_payment"] for a in proposals)


def test_batch_decision_rolls_back_whole_on_one_failure(proposals, cast, call, make_application):
    first, middle, last = proposals
    # four eyes: the decision maker scored the middle one while it was in assessment
    both = with_roles(cast.officer2, Role.DECISION_MAKER)
    perform(actor=cast.decision_maker, application=middle, node="decide", action="return_proposal",
            data={"comment": "Bedöm enligt kriterierna först"})
    to_queue(middle)
    perform(actor=both, application=middle, node="assess", action="score",
            data={"scores": {c["code"]: (4, "Motiverat") for c in criteria_of(middle.call)}})
    to_queue(middle)
    perform(actor=cast.officer, application=middle, node="assess", action="propose_decision",
            data={"outcome": Proposal.Outcome.GRANTED, "amount": Decimal("200000"), "reasons": "Lägesbilden visar behovet och åtgärdsplanen är genomförbar inom bidragsåret, men budgetens personalkostnad är högre än rimligt.",
                  "conditions": "Lägre belopp än sökt", "communication_waived": "Sökanden har redan yttrat sig över hela underlaget."})
    before = snapshot(proposals)
    with pytest.raises(batch.BatchRefused) as excinfo:
        batch.decide_all(actor=both, call=call, application_ids=[a.pk for a in proposals])
    assert excinfo.value.application.pk == middle.pk
    assert excinfo.value.code == ErrorCode.FOUR_EYES
    assert middle.case.diarienummer in str(excinfo.value.message)
    assert snapshot(proposals) == before  # nothing decided, for any of them

    # through the page: the confirmation, then the refusal naming the one and why
    client = Client()
    client.force_login(both)
    url = reverse("workflows:ranking_decide", args=[call.pk])
    confirm = client.post(url, {"ansokan": [str(a.pk) for a in proposals]})
    assert confirm.status_code == 200
    text = html.unescape(confirm.content.decode())
    assert "Fatta 3 beslut enligt förslagen" in text and "Lägre belopp än sökt" in text and "200\u00a0000\u00a0kr" in text
    assert snapshot(proposals) == before
    refused = client.post(url, {"ansokan": [str(a.pk) for a in proposals], "bekrafta": "1"})
    assert refused.status_code == 403
    text = html.unescape(refused.content.decode())
    assert "Inget beslut fattades" in text and middle.case.diarienummer in text and "fyraögonsprincipen" in text
    assert snapshot(proposals) == before

    # without the one that cannot be decided by them, the other two are
    done = client.post(url, {"ansokan": [str(first.pk), str(last.pk)], "bekrafta": "1"})
    assert done.status_code == 302
    assert Decision.objects.filter(application_id__in=[first.pk, last.pk]).count() == 2
    assert not Decision.objects.filter(application=middle).exists()


def test_batch_four_eyes_per_decision_the_proposer_may_not_decide(proposals, cast, call):
    proposer = with_roles(cast.officer, Role.DECISION_MAKER)
    before = snapshot(proposals)
    with pytest.raises(batch.BatchRefused) as excinfo:
        batch.decide_all(actor=proposer, call=call, application_ids=[a.pk for a in proposals])
    assert excinfo.value.code == ErrorCode.FOUR_EYES
    assert snapshot(proposals) == before


def test_batch_refused_whole_for_jav_or_a_case_already_decided(proposals, cast, call):
    first, middle, last = proposals
    door.declare_conflict(actor=cast.decision_maker, application_id=last.pk, reason="Jag sitter i styrelsen")
    before = snapshot(proposals)
    with pytest.raises(batch.BatchRefused) as excinfo:
        batch.decide_all(actor=cast.decision_maker, call=call, application_ids=[a.pk for a in proposals])
    assert excinfo.value.application.pk == last.pk and excinfo.value.code == ErrorCode.CONFLICT_OF_INTEREST
    assert snapshot(proposals) == before
    other = with_roles(cast.officer2, Role.DECISION_MAKER)
    door.act(actor=other, application_id=middle.pk, node="decide", action="decide")  # decided meanwhile
    before = snapshot(proposals)
    with pytest.raises(batch.BatchRefused) as excinfo:
        batch.decide_all(actor=other, call=call, application_ids=[first.pk, middle.pk])
    assert excinfo.value.application.pk == middle.pk
    assert snapshot(proposals) == before


def test_batch_only_for_applications_of_the_call(proposals, cast, reference):
    other_call = reference["calls"]["utvardering"]
    with pytest.raises(batch.NotFound):
        batch.decide_all(actor=cast.decision_maker, call=other_call, application_ids=[proposals[0].pk])
    assert not Decision.objects.exists()


def test_only_decision_makers_reach_the_batch(proposals, cast, call):
    url = reverse("workflows:ranking_decide", args=[call.pk])
    for person in (cast.officer, cast.auditor, cast.finance):
        client = Client()
        client.force_login(person)
        assert client.post(url, {"ansokan": [str(proposals[0].pk)], "bekrafta": "1"}).status_code == 404
    assert not Decision.objects.exists()
    client = Client()
    client.force_login(cast.decision_maker)
    page = html.unescape(client.get(reverse("workflows:ranking", args=[call.pk])).content.decode())
    assert page.count('name="ansokan"') == 3 and 'form="batch-decide"' in page
