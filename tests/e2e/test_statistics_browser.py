"""Issue 9: the statistics page in a browser, for an auditor reached from the menu: the
charts drawn (as images with names), a chart's table opened, filtered by scheme, and
axe-core (WCAG 2.1 A and AA) finding nothing, the tables open or closed; the open-data
page for a visitor, scanned the same way."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from bidrag.models.application import Status
from bidrag.services.letters import letter_issue


@pytest.fixture
def decided_cases(make_application, malmo):
    granted = make_application(to=Status.GRANTED, title="Trygg i centrum")
    for decision in granted.decisions.all():
        letter_issue(decision_id=decision.pk)
    rejected = make_application(to=Status.REJECTED, organisation=malmo, title="Fältarbete", amount=Decimal("200000"))
    return granted, rejected


def test_statistics_page_charts_tables_and_axe(open_page, assert_accessible, users, decided_cases):
    granted, _rejected = decided_cases
    page = open_page(user=users.auditor)
    page.goto("/")
    page.get_by_role("link", name="Statistik").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Statistik")
    expect(page.get_by_role("link", name="Statistik")).to_have_attribute("aria-current", "page")
    for name in ("Sökt och beviljat belopp per utlysning", "Sökt och beviljat belopp per län",
                 "Beslut per stödform och inriktning", "Handläggningstid från registrering till beslut"):
        expect(page.get_by_role("img", name=name)).to_be_visible()
    # The charts' shapes are coloured by the stylesheet (no inline style): the granted bar is filled.
    bar = page.locator(".chart__bar--granted").first
    assert bar.evaluate("e => getComputedStyle(e).fill") == "rgb(10, 79, 143)"
    assert_accessible(page, "statistics")

    page.get_by_text("Visa siffrorna per län som tabell").click()
    table = page.get_by_role("table", name="Sökt och beviljat belopp per län")
    expect(table.get_by_role("row", name="Stockholms län")).to_contain_text("250\u00a0000\u00a0kr")
    expect(table.get_by_role("row", name="Skåne län")).to_contain_text("200\u00a0000\u00a0kr")
    assert_accessible(page, "statistics with a table open")

    page.get_by_label("Stödform", exact=True).select_option(label=granted.call.scheme.name)
    page.get_by_role("button", name="Visa").click()
    expect(page.get_by_role("img", name="Sökt och beviljat belopp per utlysning")).to_be_visible()
    expect(page.locator("#chart-calls-desc")).to_contain_text(granted.call.title)
    assert_accessible(page, "statistics filtered by scheme")


def test_open_data_page_is_public_and_accessible(open_page, assert_accessible, decided_cases):
    page = open_page()
    page.goto("/")
    page.get_by_role("link", name="Öppna data: alla beviljade projekt som CSV och JSON").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Öppna data: beviljade projekt")
    expect(page.get_by_role("table").first).to_contain_text("Trygg i centrum")
    expect(page.get_by_role("table").first).not_to_contain_text("Fältarbete")
    expect(page.get_by_role("link", name="JSON, alla beviljade projekt")).to_be_visible()
    assert_accessible(page, "open data")
