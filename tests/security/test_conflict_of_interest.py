"""Jäv (förvaltningslagen 16–18 §§): the declaration is journaled and can never be undone;
the declarer sees and does nothing more on the case until the agency has ruled; auditors
never declare anything."""

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.urls import reverse

from arenden.errors import ErrorCode, NotAllowed
from arenden.journal import journal_verify
from arenden.models import ConflictOfInterest, ConflictRuling
from bidrag.models.application import Status
from tests.domain import perform
from workflows import door

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("state", [Status.IN_REVIEW, Status.CLOSED])
def test_auditor_cannot_declare_conflict_over_http(make_application, cast, state):
    application = make_application(to=state)
    response = client_for(cast.auditor).post(
        reverse("workflows:declare_conflict", args=[application.pk]), {"reason": "Revisorn försöker skriva"}
    )
    assert response.status_code == 403
    assert not ConflictOfInterest.objects.filter(case=application.case).exists()
    page = client_for(cast.auditor).get(reverse("workflows:case_detail", args=[application.pk])).content.decode()
    assert reverse("workflows:declare_conflict", args=[application.pk]) not in page  # not offered either


def test_fl17_declaration_is_journaled_and_the_table_is_append_only(make_application, cast):
    application = make_application(to=Status.IN_ASSESSMENT)
    declaration = door.declare_conflict(actor=cast.officer, application_id=application.pk, reason="Min bror leder projektet")
    event = application.case.journal.order_by("-seq").first()
    assert (event.action, event.actor_id, event.payload["reason"]) == (
        "declare_conflict", cast.officer.pk, "Min bror leder projektet")
    for sql in ("DELETE FROM arenden_conflictofinterest WHERE id = %s",
                "UPDATE arenden_conflictofinterest SET reason = 'x' WHERE id = %s"):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [declaration.pk])
    assert ConflictOfInterest.objects.get(pk=declaration.pk).reason == "Min bror leder projektet"
    assert journal_verify(case_ids=[application.case_id]) == []


def test_fl16_declarer_sees_only_the_diarium_entry_and_no_attachment(make_application, cast):
    application = make_application(to=Status.IN_REVIEW)
    door.declare_conflict(actor=cast.officer, application_id=application.pk, reason="Jävig")
    page = client_for(cast.officer).get(reverse("workflows:case_detail", args=[application.pk]))
    assert page.status_code == 200
    text = page.content.decode()
    assert application.case.diarienummer in text and "Du har anmält jäv" in text
    assert application.purpose not in text  # the application itself is not shown
    attachment = application.case.attachments.first()
    assert client_for(cast.officer).get(reverse("bidrag:attachment_download", args=[attachment.pk])).status_code == 404
    assert client_for(cast.officer2).get(reverse("bidrag:attachment_download", args=[attachment.pk])).status_code == 302


def test_fl16_declaring_gives_back_the_declarers_tasks(make_application, cast):
    application = make_application(to=Status.IN_REVIEW)
    door.claim(actor=cast.officer, application_id=application.pk, node="review")
    door.declare_conflict(actor=cast.officer, application_id=application.pk, reason="Jävig")
    [task] = application.process.task_set.filter(status__in=["NEW", "ASSIGNED"])
    assert task.owner_id is None
    perform(actor=cast.officer2, application=application, node="review", action="start_assessment")


def test_fl18_ruling_no_conflict_lets_the_declarer_take_part_again(make_application, cast):
    application = make_application(to=Status.IN_REVIEW)
    declaration = door.declare_conflict(actor=cast.officer, application_id=application.pk, reason="Kanske jävig")
    with pytest.raises(NotAllowed):
        perform(actor=cast.officer, application=application, node="review", action="start_assessment")
    with pytest.raises(NotAllowed):  # a case officer does not rule; the declarer never rules on themself
        door.rule_conflict(actor=cast.officer2, application_id=application.pk, declaration_id=declaration.pk,
                           upheld=False, reasons="x")
    door.rule_conflict(actor=cast.decision_maker, application_id=application.pk, declaration_id=declaration.pk,
                       upheld=False, reasons="Avlägset släktskap, inget intresse i saken")
    event = application.case.journal.order_by("-seq").first()
    assert (event.action, event.payload["upheld"], event.payload["declarer"]) == ("rule_conflict", False, cast.officer.pk)
    perform(actor=cast.officer, application=application, node="review", action="start_assessment")
    assert application.case.journal.filter(action="start_assessment", actor=cast.officer).exists()


def test_fl18_ruling_upheld_keeps_the_declarer_out_for_good(make_application, cast):
    application = make_application(to=Status.DECISION_PROPOSED)
    declaration = door.declare_conflict(actor=cast.decision_maker, application_id=application.pk, reason="Jävig")
    with pytest.raises(NotAllowed) as excinfo:
        door.rule_conflict(actor=cast.decision_maker, application_id=application.pk, declaration_id=declaration.pk,
                           upheld=False, reasons="Jag är inte jävig")
    assert excinfo.value.code == ErrorCode.CONFLICT_OF_INTEREST
    other = type(cast.decision_maker).objects.create_user("beslutsfattare2")
    other.groups.add(*cast.decision_maker.groups.all())
    door.rule_conflict(actor=other, application_id=application.pk, declaration_id=declaration.pk,
                       upheld=True, reasons="Nära släkting är projektledare")
    assert ConflictRuling.objects.get(declaration=declaration).upheld
    with pytest.raises(NotAllowed) as excinfo:
        perform(actor=cast.decision_maker, application=application, node="decide", action="decide")
    assert excinfo.value.code == ErrorCode.CONFLICT_OF_INTEREST


def test_ruling_on_a_declaration_of_another_case_answers_like_a_missing_one(make_application, cast, malmo):
    application = make_application(to=Status.IN_REVIEW)
    other = make_application(to=Status.IN_REVIEW, organisation=malmo, title="Annat ärende")
    declaration = door.declare_conflict(actor=cast.officer, application_id=other.pk, reason="Jävig")
    client = client_for(cast.decision_maker)
    data = {"upheld": "no", "reasons": "Inget intresse"}
    foreign = client.post(reverse("workflows:rule_conflict", args=[application.pk, declaration.pk]), data)
    missing = client.post(
        reverse("workflows:rule_conflict", args=[application.pk, "00000000-0000-4000-8000-000000000000"]), data)
    assert foreign.status_code == missing.status_code == 404
    assert not ConflictRuling.objects.exists()


def test_fl16_the_case_leaves_the_declarers_queue_until_ruled_away(make_application, cast):
    from bidrag.roles import Role
    from workflows.selectors import queue_tasks

    application = make_application(to=Status.IN_REVIEW)

    def in_queue(user):
        return any(t.process.applicationprocess.application_id == application.pk
                   for t in queue_tasks(actor=user, role=Role.CASE_OFFICER))

    assert in_queue(cast.officer)
    declaration = door.declare_conflict(actor=cast.officer, application_id=application.pk, reason="Jävig")
    assert not in_queue(cast.officer) and in_queue(cast.officer2)
    door.rule_conflict(actor=cast.decision_maker, application_id=application.pk, declaration_id=declaration.pk,
                       upheld=False, reasons="Inget intresse i saken")
    assert in_queue(cast.officer)
