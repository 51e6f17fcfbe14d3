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
