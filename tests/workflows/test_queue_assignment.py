"""Issue 7, assignment: a team lead (arbetsledare) assigns, reassigns and releases tasks and
assigns in bulk from a queue page, through one function of the door (workflows.door.assign),
journaled. Whoever declared jäv (FL 16 §) or is barred from the step by four eyes is never
offered as an assignee, and the door refuses them anyway. The team lead takes no case
action; auditors never write. Bulk assignment is all or nothing and names each refused row."""

import html

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from arenden.errors import ErrorCode, NotAllowed
from arenden.models import JournalEvent
from bidrag.events import Event
from bidrag.models import Organisation
from bidrag.models.application import Status
from bidrag.roles import Role
from tests.domain import perform, to_queue
from workflows import door, policy, selectors
from workflows.flows import ApplicationFlow

pytestmark = pytest.mark.django_db

QUEUE = reverse("workflows:queue")
ASSIGN = reverse("workflows:queue_assign")


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def municipality(i: int) -> Organisation:
    return Organisation.objects.exclude(kommunkod="").order_by("kommunkod")[i]


def task_at(application, node):
    return next(t for t in selectors.active_tasks(application) if t.flow_task.name == node)


def offered(team_lead, role, application, node) -> list:
    """Whom the team lead's queue page offers for the task."""
    query = selectors.queue_query(actor=team_lead, role=role)
    rows = selectors.queue_rows(list(selectors.queue_page_entries(query).order_by(*query.ordering)))
    task = task_at(application, node)
    return selectors.assignees(actor=team_lead, role=role, rows=rows)[task.pk]


def in_review(i=0):
    def make(make_application):
        application = make_application(to=Status.IN_REVIEW, organisation=municipality(i), title=f"Projekt {i}")
        to_queue(application)
        return application
    return make


def test_team_lead_assigns_reassigns_and_releases_and_each_is_journaled(make_application, cast):
    application = in_review()(make_application)
    door.assign(actor=cast.team_lead, application_id=application.pk, node="review", to_user=cast.officer)
    assert task_at(application, "review").owner == cast.officer
    door.assign(actor=cast.team_lead, application_id=application.pk, node="review", to_user=cast.officer2)
    assert task_at(application, "review").owner == cast.officer2
    door.assign(actor=cast.team_lead, application_id=application.pk, node="review", to_user=None)
    assert task_at(application, "review").owner is None
    events = list(JournalEvent.objects.filter(case_id=application.case_id, action__in=[Event.ASSIGN_TASK,
                                                                                        Event.UNASSIGN_TASK])
                  .order_by("seq"))
    assert [(e.action, e.actor_id, (e.payload["to"] or {}).get("id"), (e.payload["from"] or {}).get("id"))
            for e in events] == [
        (Event.ASSIGN_TASK, cast.team_lead.pk, cast.officer.pk, None),
        (Event.ASSIGN_TASK, cast.team_lead.pk, cast.officer2.pk, cast.officer.pk),
        (Event.UNASSIGN_TASK, cast.team_lead.pk, None, cast.officer2.pk),
    ]
    # the assignee takes the step; the team lead takes no case action and claims nothing
    door.assign(actor=cast.team_lead, application_id=application.pk, node="review", to_user=cast.officer)
    start = ApplicationFlow.review.action("start_assessment")
    assert not policy.may_take(actor=cast.team_lead, application=application, action=start)
    with pytest.raises(NotAllowed):
        perform(actor=cast.team_lead, application=application, node="review", action="start_assessment")
    perform(actor=cast.officer, application=application, node="review", action="start_assessment")


def test_fl16_barred_officer_is_never_an_assignee_and_the_door_refuses_them(make_application, cast):
    application = in_review()(make_application)
    door.declare_conflict(actor=cast.officer2, application_id=application.pk, reason="Min bror leder projektet.")
    people = offered(cast.team_lead, Role.CASE_OFFICER, application, "review")
    assert cast.officer in people and cast.officer2 not in people
    with pytest.raises(NotAllowed) as refused:
        door.assign(actor=cast.team_lead, application_id=application.pk, node="review", to_user=cast.officer2)
    assert refused.value.code == ErrorCode.CONFLICT_OF_INTEREST
    assert task_at(application, "review").owner is None
    assert not JournalEvent.objects.filter(case_id=application.case_id, action=Event.ASSIGN_TASK).exists()
    # the page offers the same: the barred officer is no option on the row
    page = html.unescape(client_for(cast.team_lead).get(QUEUE, {"ko": "handlaggare"}).content.decode())
    select = page[page.index(f'id="tilldela-{task_at(application, "review").pk}"'):]
    select = select[:select.index("</select>")]
    assert f"|{cast.officer.pk}\"" in select and f"|{cast.officer2.pk}\"" not in select


def test_four_eyes_barred_payer_is_never_an_assignee_and_the_door_refuses_them(make_application, cast):
    application = make_application(to=Status.GRANTED, organisation=municipality(0))
    perform(actor=cast.officer, application=application, node="prepare_payment", action="prepare_disbursement")
    perform(actor=cast.finance, application=application, node="attest_payment", action="attest_disbursement")
    to_queue(application)
    people = offered(cast.team_lead, Role.FINANCE, application, "pay")
    assert cast.finance2 in people and cast.finance not in people  # payer ≠ attester
    with pytest.raises(NotAllowed) as refused:
        door.assign(actor=cast.team_lead, application_id=application.pk, node="pay", to_user=cast.finance)
    assert refused.value.code == ErrorCode.FOUR_EYES
    door.assign(actor=cast.team_lead, application_id=application.pk, node="pay", to_user=cast.finance2)
    assert task_at(application, "pay").owner == cast.finance2


def test_only_a_team_lead_assigns_and_never_to_an_auditor_or_someone_without_the_role(make_application, cast):
    application = in_review()(make_application)
    for actor in (cast.officer, cast.auditor, cast.registrar, cast.admin):
        with pytest.raises(NotAllowed):
            door.assign(actor=actor, application_id=application.pk, node="review", to_user=cast.officer)
    dual = type(cast.officer).objects.create(username="handlaggare-revisor")
    dual.groups.add(*Group.objects.filter(name__in=[Role.CASE_OFFICER, Role.AUDITOR]))
    for person in (dual, cast.finance, cast.decision_maker):
        with pytest.raises(NotAllowed):
            door.assign(actor=cast.team_lead, application_id=application.pk, node="review", to_user=person)
    assert dual not in offered(cast.team_lead, Role.CASE_OFFICER, application, "review")
    assert task_at(application, "review").owner is None
    # an auditor posting the form changes nothing either
    response = client_for(cast.auditor).post(ASSIGN, {"tilldela": f"{application.pk}|review|{cast.officer.pk}"})
    assert response.status_code == 302 and task_at(application, "review").owner is None


def test_bulk_assign_is_all_or_nothing_and_names_each_refused_row(make_application, cast):
    first, second = in_review(0)(make_application), in_review(1)(make_application)
    door.declare_conflict(actor=cast.officer2, application_id=second.pk, reason="Jag sitter i styrelsen.")
    team_lead = client_for(cast.team_lead)
    back = f"{QUEUE}?ko=handlaggare"
    response = team_lead.post(ASSIGN, {"tillbaka": back, "tilldela": [
        f"{first.pk}|review|{cast.officer2.pk}", f"{second.pk}|review|{cast.officer2.pk}", ""]}, follow=True)
    page = html.unescape(response.content.decode())
    assert "Ingen uppgift fördelades" in page
    second.case.refresh_from_db()
    assert f"{second.case.diarienummer}: " in page and "anmält jäv" in page
    assert task_at(first, "review").owner is None and task_at(second, "review").owner is None  # nothing at all
    response = team_lead.post(ASSIGN, {"tillbaka": back, "tilldela": [
        f"{first.pk}|review|{cast.officer2.pk}", f"{second.pk}|review|{cast.officer.pk}"]})
    assert response.status_code == 302 and response["Location"] == back
    assert task_at(first, "review").owner == cast.officer2 and task_at(second, "review").owner == cast.officer
    # and back to the queue in bulk
    team_lead.post(ASSIGN, {"tilldela": [f"{first.pk}|review|kon", f"{second.pk}|review|kon"]})
    assert task_at(first, "review").owner is None and task_at(second, "review").owner is None


def test_an_officers_own_claim_and_release_are_journaled(make_application, cast):
    from tests.domain import to_queue
    from workflows import door

    application = make_application(to=Status.IN_REVIEW)
    to_queue(application)
    door.claim(actor=cast.officer2, application_id=application.pk, node="review")
    door.release(actor=cast.officer2, application_id=application.pk, node="review")
    events = list(JournalEvent.objects.filter(case_id=application.case_id).order_by("-seq")[:2])
    assert [e.action for e in reversed(events)] == [Event.CLAIM_TASK, Event.RELEASE_TASK]
    assert all(e.actor_id == cast.officer2.pk and e.payload["node"] == "review" for e in events)
