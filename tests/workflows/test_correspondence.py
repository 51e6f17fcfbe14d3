"""Issue 7: the registrar's note, Brå's supplement requests and FL 25 § communications and the
applicant's answers are on the case page for staff, in order, with who and when."""

import html
import re

import pytest
from django.test import Client
from django.urls import reverse

from bidrag.models.application import Status
from tests.domain import perform

pytestmark = pytest.mark.django_db


def case_text(user, application) -> str:
    client = Client()
    client.force_login(user)
    page = client.get(reverse("workflows:case_detail", args=[application.pk])).content.decode()
    section = page[page.index('id="skriftvaxling"'):page.index('id="forslag-och-beslut"')]
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", section)).split())


def test_the_request_and_the_answer_are_on_the_case_page_in_order(make_application, cast):
    application = make_application(to=Status.AWAITING_SUPPLEMENT)
    perform(actor=cast.signatory, application=application, node="await_supplement", action="receive_supplement",
            data={"answer": "Här är den reviderade lägesbilden från kommunens trygghetsenkät."})
    for who in (cast.officer, cast.registrar, cast.auditor):
        text = case_text(who, application)
        assert "Brå till sökanden" in text and "Sökanden till Brå" in text
        assert text.index("Brå till sökanden") < text.index("Sökanden till Brå")
        assert "Här är den reviderade lägesbilden från kommunens trygghetsenkät." in text
        assert "Svara senast" in text


def test_a_case_without_letters_says_so(make_application, cast):
    application = make_application(to=Status.SUBMITTED)
    assert "Ingen skriftväxling med sökanden ännu." in case_text(cast.registrar, application)


def test_fl27_items_registered_by_hand_are_in_the_correspondence_with_what_was_said(make_application, cast):
    from django.utils import timezone

    from arenden.models import DiariumEntry
    from workflows.diarium import register_item

    application = make_application(to=Status.IN_REVIEW)
    register_item(actor=cast.registrar, application_id=application.pk, data={
        "kind": DiariumEntry.Kind.PHONE_NOTE, "direction": DiariumEntry.Direction.INTERNAL,
        "entry_date": timezone.localdate(), "counterpart": "Stockholms stad", "counterpart_private": False,
        "description": "Telefonsamtal om budgeten", "secrecy": "",
        "note": "Kontaktpersonen uppgav att lokalkostnaden delas med stadsdelen."})
    text = case_text(cast.officer, application)
    assert "Diarieförd handling" in text and "Telefonsamtal om budgeten" in text
    assert "Kontaktpersonen uppgav att lokalkostnaden delas med stadsdelen." in text


def test_a_team_lead_declares_jav_like_everyone_who_handles_the_case(make_application, cast):
    from arenden.models import ConflictOfInterest
    from workflows import door

    application = make_application(to=Status.IN_REVIEW)
    door.declare_conflict(actor=cast.team_lead, application_id=application.pk, reason="Min syster är projektledare.")
    assert ConflictOfInterest.objects.filter(case=application.case, user=cast.team_lead).exists()
