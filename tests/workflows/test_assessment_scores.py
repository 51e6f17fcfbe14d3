"""Issue 7, assessment: each assessor scores every criterion of the scheme on the call's
scale with a written reason, through the door; whoever scored may not decide (MF 21 §,
four eyes)."""

import html

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from arenden.errors import ErrorCode, NotAllowed, TransitionNotAllowed, ValidationFailed
from arenden.models import JournalEvent
from bidrag.events import Event
from bidrag.models import Application, Assessment, Decision, Proposal, Score
from bidrag.models.application import Status
from bidrag.models.assessment import criteria_of
from bidrag.roles import Role
from tests.domain import perform, to_queue

pytestmark = pytest.mark.django_db


def scores_for(application, value=4, reason="Lägesbilden visar behovet"):
    return {"scores": {c["code"]: (value, f"{reason} ({c['name']})") for c in criteria_of(application.call)}}


def score(actor, application, **kwargs):
    return perform(actor=actor, application=application, node="assess", action="score",
                   data=scores_for(application, **kwargs))


def test_criteria_and_scale_come_from_the_scheme_and_call(call):
    assert [c["name"] for c in criteria_of(call)] == ["Relevans", "Genomförbarhet", "Bärkraft och långsiktighet"]
    assert [c["code"] for c in criteria_of(call)] == ["relevans", "genomforbarhet", "barkraft-och-langsiktighet"]
    assert call.score_scale_max == 5


def test_each_criterion_is_scored_with_a_reason_and_journaled(make_application, cast):
    application = make_application(to=Status.IN_ASSESSMENT)
    assessment = score(cast.officer, application, value=4)
    scores = list(Score.objects.filter(assessment=assessment).order_by("position"))
    assert [(s.criterion_name, s.value, s.scale_max) for s in scores] == [
        ("Relevans", 4, 5), ("Genomförbarhet", 4, 5), ("Bärkraft och långsiktighet", 4, 5)]
    assert all(s.reason.startswith("Lägesbilden visar behovet") for s in scores)
    assert assessment.total == 12 and assessment.assessor == cast.officer
    event = JournalEvent.objects.filter(case_id=application.case_id, action=Event.SCORE).get()
    assert event.actor_id == cast.officer.pk and event.from_state == event.to_state == Status.IN_ASSESSMENT
    assert event.payload["total"] == 12 and event.payload["scores"]["relevans"]["value"] == 4


def test_the_author_may_change_their_scores_until_the_proposal(make_application, cast):
    application = make_application(to=Status.IN_ASSESSMENT)
    first = score(cast.officer, application, value=2)
    second = score(cast.officer, application, value=5, reason="Omprövat efter yttrandet")
    assert first.pk == second.pk and Assessment.objects.filter(application=application).count() == 1
    assert sorted(Score.objects.filter(assessment=second).values_list("value", flat=True)) == [5, 5, 5]
    assert JournalEvent.objects.filter(case_id=application.case_id, action=Event.SCORE).count() == 2
    perform(actor=cast.officer, application=application, node="assess", action="propose_decision",
            data={"outcome": Proposal.Outcome.REJECTED, "reasons": "Projektet avser den befintliga kommunala verksamheten som ansökans metodavsnitt beskriver, vilket förordningen inte ger stöd för.", "communication_waived": "Sökanden har redan yttrat sig över hela underlaget."})
    with pytest.raises(TransitionNotAllowed):
        score(cast.officer, application, value=1)
    assert sorted(Score.objects.filter(assessment=second).values_list("value", flat=True)) == [5, 5, 5]


def test_two_assessors_each_have_their_own_assessment(make_application, cast):
    application = make_application(to=Status.IN_ASSESSMENT)
    score(cast.officer, application, value=3)
    to_queue(application)  # Hanna hands the case on; Hugo assesses too
    score(cast.officer2, application, value=5)
    assert sorted(Assessment.objects.filter(application=application).values_list("total", flat=True)) == [9, 15]


def test_scores_outside_the_calls_scale_are_refused(make_application, cast, call):
    application = make_application(to=Status.IN_ASSESSMENT)
    with pytest.raises(ValidationFailed) as excinfo:
        score(cast.officer, application, value=7)
    assert "score_relevans" in excinfo.value.details["fields"]
    assert not Assessment.objects.filter(application=application).exists()
    call.score_scale_max = 10
    call.save(update_fields=["score_scale_max"])
    assert score(cast.officer, application, value=7).total == 21


def test_every_score_needs_a_written_reason(make_application, cast):
    application = make_application(to=Status.IN_ASSESSMENT)
    data = scores_for(application)
    data["scores"]["genomforbarhet"] = (4, "   ")
    with pytest.raises(ValidationFailed) as excinfo:
        perform(actor=cast.officer, application=application, node="assess", action="score", data=data)
    assert list(excinfo.value.details["fields"]) == ["reason_genomforbarhet"]
    assert not Assessment.objects.filter(application=application).exists()
    assert not JournalEvent.objects.filter(case_id=application.case_id, action=Event.SCORE).exists()


def test_mf21_assessor_may_not_decide(make_application, cast):
    application = make_application(to=Status.IN_ASSESSMENT)
    both = cast.officer2
    both.groups.add(Group.objects.get(name=Role.DECISION_MAKER))
    both = type(both).objects.get(pk=both.pk)
    to_queue(application)
    score(both, application)  # Hugo only scores; Hanna proposes
    to_queue(application)
    perform(actor=cast.officer, application=application, node="assess", action="propose_decision",
            data={"outcome": Proposal.Outcome.REJECTED, "reasons": "Projektet avser den befintliga kommunala verksamheten som ansökans metodavsnitt beskriver, vilket förordningen inte ger stöd för.", "communication_waived": "Sökanden har redan yttrat sig över hela underlaget."})
    with pytest.raises(NotAllowed) as excinfo:
        perform(actor=both, application=application, node="decide", action="decide")
    assert excinfo.value.code == ErrorCode.FOUR_EYES
    assert not Decision.objects.filter(application=application).exists()
    perform(actor=cast.decision_maker, application=application, node="decide", action="decide")
    assert Application.objects.get(pk=application.pk).status == Status.REJECTED


def test_the_score_page_and_the_case_page(make_application, cast):
    application = make_application(to=Status.IN_ASSESSMENT)
    client = Client()
    client.force_login(cast.officer)
    url = reverse("workflows:task_action", args=[application.pk, "assess", "score"])
    page = client.get(url).content.decode()
    assert 'name="score_relevans"' in page and 'name="reason_barkraft-och-langsiktighet"' in page
    posted = {"score_relevans": "5", "reason_relevans": "Tydlig lägesbild",
              "score_genomforbarhet": "3", "reason_genomforbarhet": "Budgeten är snäv",
              "score_barkraft-och-langsiktighet": "4", "reason_barkraft-och-langsiktighet": "Förankrat i BRÅ-rådet"}
    response = client.post(url, posted)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Assessment.objects.get(application=application).total == 12
    # the form comes back with the assessor's own scores to change
    again = client.get(url).content.decode()
    assert "Budgeten är snäv" in again and 'value="3" class="radio-inline" required id="id_score_genomforbarhet_2" checked' in again
    case_page = html.unescape(client.get(reverse("workflows:case_detail", args=[application.pk])).content.decode())
    section = case_page[case_page.index('id="bedomning"'):case_page.index('id="forslag-och-beslut"')]
    assert "Relevans" in section and "Hanna Handläggare" in section and "Budgeten är snäv" in section
    assert "12 av 15" in section
