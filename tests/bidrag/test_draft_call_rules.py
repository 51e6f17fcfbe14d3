"""Issue 6: the call's rules are checked when the draft is created and shown in its checklist,
and a draft can move to another of the person's organisations without retyping anything."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from arenden.errors import ValidationFailed
from arenden.models import JournalEvent
from bidrag import services
from bidrag.events import Event
from bidrag.models import Application, Membership, Organisation
from bidrag.models.application import Status
from bidrag.services.applications import submission_problems
from workflows import demo

from ..domain import ASSOCIATION, perform, submit

pytestmark = pytest.mark.django_db

PLACE_TAKEN = "har redan skickat in en ansökan i utlysningen"


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def field_error(html: str, field: str) -> str:
    """The error text Django ties to the field (id_<field>_error), '' if none."""
    found = re.search(rf'<ul class="field__errors" id="id_{field}_error">(.*?)</ul>', html, re.S)
    return re.sub(r"<[^>]+>", "", found.group(1)) if found else ""


def create(user, organisation, call, title="Nytt försök"):
    track = call.tracks.order_by("position").first()
    return client_for(user).post(
        reverse("bidrag:application_create"),
        {"organisation": organisation.pk, "call": call.pk, "track": track.pk if track else "", "title": title},
    )


def test_a_draft_is_refused_at_creation_where_the_organisation_already_holds_the_calls_place(
    make_application, cast, call, stockholm
):
    assert call.one_application_per_organisation
    make_application(to=Status.SUBMITTED, organisation=stockholm)
    drafts_before = Application.objects.count()

    response = create(cast.applicant, stockholm, call)

    assert response.status_code == 400
    html = response.content.decode()
    assert PLACE_TAKEN in field_error(html, "organisation")
    assert re.search(r'<select name="organisation"[^>]*aria-invalid="true"', html)
    assert re.search(r'<select name="organisation"[^>]*aria-describedby="id_organisation_error"', html)
    assert "Nytt försök" in html  # what was typed is still in the form
    assert Application.objects.count() == drafts_before


def test_the_service_itself_refuses_the_taken_place(make_application, cast, call, stockholm):
    make_application(to=Status.SUBMITTED, organisation=stockholm)
    with pytest.raises(ValidationFailed, match=PLACE_TAKEN) as refused:
        services.application_create(actor=cast.applicant, organisation=stockholm, call=call, title="x")
    assert refused.value.details["field"] == "organisation"


def test_an_organisation_the_scheme_does_not_admit_cannot_create_a_draft(cast, call, reference):
    association = Organisation.objects.get(orgnr=ASSOCIATION)
    Membership.objects.create(organisation=association, user=cast.applicant, role=Membership.Role.SIGNATORY)
    assert association.legal_form not in call.scheme.eligible_legal_forms

    response = create(cast.applicant, association, call)

    assert response.status_code == 400
    assert "kan inte söka" in field_error(response.content.decode(), "organisation")
    assert not Application.objects.filter(organisation=association).exists()


def test_a_withdrawn_application_gives_the_place_back_for_a_new_draft(make_application, cast, call, stockholm):
    first = make_application(to=Status.SUBMITTED, organisation=stockholm)
    perform(actor=cast.signatory, application=first, node=None, action="withdraw", data={"reason": "Fel projekt"})

    response = create(cast.applicant, stockholm, call)

    assert response.status_code == 302
    assert Application.objects.filter(organisation=stockholm, status=Status.DRAFT).count() == 1


def test_the_checklist_names_the_calls_one_place_once_another_draft_was_submitted(cast, call, stockholm):
    first = demo.new_application(cast=cast, organisation=stockholm, call=call, title="Första")
    second = demo.new_application(cast=cast, organisation=stockholm, call=call, title="Andra")
    assert submission_problems(Application.objects.get(pk=second.pk)) == []
    submit(actor=cast.signatory, application=first)

    page = client_for(cast.applicant).get(
        reverse("bidrag:application_step", args=[second.pk, "sammanfattning"])
    ).content.decode()

    checklist = re.search(r'<section id="skicka-in".*?</section>', page, re.S).group()
    assert PLACE_TAKEN in checklist
    assert "Allt som krävs är ifyllt" not in checklist
    assert any(PLACE_TAKEN in str(p) for p in submission_problems(Application.objects.get(pk=second.pk)))


def test_a_draft_moves_to_another_of_the_persons_organisations_with_everything_typed(draft, cast, malmo, stockholm):
    Membership.objects.create(organisation=malmo, user=cast.applicant, role=Membership.Role.APPLICANT)
    before = Application.objects.get(pk=draft.pk)
    lines = list(draft.budget_lines.values_list("description", "amount"))
    attachments = set(draft.case.attachments.values_list("pk", flat=True))

    response = client_for(cast.applicant).post(
        reverse("bidrag:application_change_organisation", args=[draft.pk]), {"organisation": malmo.pk}
    )

    assert response.status_code == 302
    moved = Application.objects.select_related("case").get(pk=draft.pk)
    assert moved.organisation == malmo
    assert (moved.title, moved.purpose, moved.need, moved.plan) == (before.title, before.purpose, before.need, before.plan)
    assert list(moved.budget_lines.values_list("description", "amount")) == lines
    assert set(moved.case.attachments.values_list("pk", flat=True)) == attachments
    assert moved.case.counterpart == malmo.name
    event = JournalEvent.objects.filter(case=moved.case, action=Event.CHANGE_ORGANISATION).get()
    assert event.payload == {"from": stockholm.orgnr_display, "to": malmo.orgnr_display}


def test_a_draft_cannot_move_to_an_organisation_the_person_does_not_represent(draft, cast, malmo, stockholm):
    response = client_for(cast.applicant).post(
        reverse("bidrag:application_change_organisation", args=[draft.pk]), {"organisation": malmo.pk}
    )
    assert response.status_code == 400
    assert field_error(response.content.decode(), "organisation")
    assert Application.objects.get(pk=draft.pk).organisation == stockholm


def test_a_draft_cannot_move_to_an_organisation_that_holds_the_calls_place(draft, cast, malmo, stockholm, make_application):
    make_application(to=Status.SUBMITTED, organisation=malmo)  # cast.applicant represents Malmö too now
    response = client_for(cast.applicant).post(
        reverse("bidrag:application_change_organisation", args=[draft.pk]), {"organisation": malmo.pk}
    )
    assert response.status_code == 400
    assert PLACE_TAKEN in field_error(response.content.decode(), "organisation")
    assert Application.objects.get(pk=draft.pk).organisation == stockholm


def test_a_submitted_application_keeps_its_organisation(make_application, cast, malmo, stockholm):
    application = make_application(to=Status.SUBMITTED, organisation=stockholm)
    Membership.objects.create(organisation=malmo, user=cast.applicant, role=Membership.Role.APPLICANT)
    response = client_for(cast.applicant).post(
        reverse("bidrag:application_change_organisation", args=[application.pk]), {"organisation": malmo.pk}
    )
    assert response.status_code == 409
    assert "redan inskickad" in response.content.decode()
    assert Application.objects.get(pk=application.pk).organisation == stockholm
