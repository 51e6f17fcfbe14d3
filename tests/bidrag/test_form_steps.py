"""Issue 6: the draft as a form in steps per scheme (bidrag/steps.py): a navigator with each
step's state, validation per step on "Spara och fortsätt", "Spara" without it, what was
typed kept when a field fails, the old edit address leading to the first unfinished step,
tracks chosen at creation and changed in the draft, their ceilings and requirements."""

import html
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from bidrag.models import Application, Membership
from bidrag.services.applications import submission_problems
from bidrag.steps import SCHEME_A, SCHEME_B
from workflows import demo

pytestmark = pytest.mark.django_db

MISSING = "00000000-0000-4000-8000-000000000000"


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def step(application, slug) -> str:
    return reverse("bidrag:application_step", args=[application.pk, slug])


def field_error(page: str, field: str) -> str:
    found = re.search(rf'<ul class="field__errors" id="id_{field}_error">(.*?)</ul>', page, re.S)
    return html.unescape(re.sub(r"<[^>]+>", "", found.group(1))) if found else ""


def navigator(page: str) -> list[tuple[str, str]]:
    nav = re.search(r'<nav class="step-nav".*?</nav>', page, re.S).group()
    return [(html.unescape(title), state) for title, state in re.findall(
        r'<a href="[^"]+"[^>]*>([^<]+)</a>\s*(?:<span class="step-nav__state[^"]*">(\w+)</span>)?', nav)]


@pytest.fixture
def empty_draft(cast, call, stockholm):
    return demo.new_application(cast=cast, organisation=stockholm, call=call, title="Tomt utkast", complete=False)


def test_every_step_of_a_complete_draft_renders_and_is_done(draft, cast):
    client = client_for(cast.applicant)
    for each in SCHEME_A:
        response = client.get(step(draft, each.slug))
        assert response.status_code == 200, each.slug
        page = response.content.decode()
        assert "Utkast – inte en allmän handling förrän den skickas in" in page
        assert 'aria-current="step"' in page
    states = navigator(page)
    assert [title for title, _state in states] == [str(s.title) for s in SCHEME_A]
    assert all(state == "klar" for title, state in states if title != "Sammanfattning"), states
