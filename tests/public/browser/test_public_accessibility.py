"""The public pages in a browser: axe (WCAG 2.1 A and AA) at 1280 px, no sideways scroll at
320 px (WCAG 1.4.10), and the way from a call to the login form and back to the call."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from bidrag.models import Call
from bidrag.models.application import Status
from bidrag.services.letters import letter_issue
from tests.e2e.conftest import PASSWORD
from tests.e2e.test_keyboard_and_reflow import NARROW, assert_no_horizontal_scroll
from workflows.queue_entries import queue_sync


@pytest.fixture
def every_kind_of_call(make_application, call):
    """The open demo calls, an upcoming one and a closed one with a granted project."""
    granted = make_application(to=Status.GRANTED, title="Trygga kvällar")
    for decision in granted.decisions.all():  # sent: public from then on (bidrag.selectors.published_grants)
        letter_issue(decision_id=decision.pk)
    now = timezone.now()
    Call.objects.create(scheme=call.scheme, title="Nästa omgång", opens_at=now + timedelta(days=30),
                        closes_at=now + timedelta(days=120), budget=Decimal("52000000"))
    closed = Call.objects.create(scheme=call.scheme, title="Förra omgången", opens_at=now - timedelta(days=400),
                                 closes_at=now - timedelta(days=300), budget=Decimal("50000000"))
    Call.objects.filter(pk=call.pk).update(opens_at=now - timedelta(days=60), closes_at=now + timedelta(days=90))
    # The granted project's call, moved into the past.
    type(granted).objects.filter(pk=granted.pk).update(call=closed)
    queue_sync(granted.pk)
    return {"open": call, "closed": closed, "granted": granted}


@pytest.mark.parametrize("viewport", [None, NARROW], ids=["1280px", "320px"])
def test_start_page_and_call_pages(open_page, assert_accessible, every_kind_of_call, viewport):
    page = open_page(viewport=viewport)
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sök ekonomiskt stöd för brottsförebyggande arbete")
    expect(page.get_by_role("table", name="Beviljade projekt i Förra omgången")).to_contain_text("Trygga kvällar")
    assert_accessible(page, "public start page")
    if viewport:
        assert_no_horizontal_scroll(page, "public start page")

    for call in (every_kind_of_call["open"], every_kind_of_call["closed"]):
        page.goto(f"/utlysningar/{call.pk}/")
        expect(page.get_by_role("heading", level=1)).to_have_text(call.title)
        assert_accessible(page, f"call page ({call.title})")
        if viewport:
            assert_no_horizontal_scroll(page, f"call page ({call.title})")


def test_from_a_call_through_login_to_the_new_application(open_page, users, call, live_server):
    page = open_page()
    page.goto("/")
    page.get_by_role("link", name=call.title, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(call.title)
    page.get_by_role("link", name="Logga in och ansök").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Logga in")
    page.get_by_label("Användarnamn").fill(users.signatory.username)
    page.get_by_label("Lösenord").fill(PASSWORD)
    page.get_by_role("button", name="Logga in").click()
    expect(page).to_have_url(f"{live_server.url}/ansokningar/ny/?utlysning={call.pk}")
