"""Issue 9: the auditor's decision log in a browser: the landing page after login, its
filters, the search and an invalid filter, a CSV export downloaded, the export list and a
case's journal reached from its row, each scanned by axe-core
(WCAG 2.1 A and AA); at 320 px nothing scrolls sideways but the table's own region."""

import pytest
from playwright.sync_api import expect

from bidrag.models.application import Status
from tests.e2e.test_keyboard_and_reflow import NARROW, assert_no_horizontal_scroll


@pytest.fixture
def decided_cases(make_application, malmo):
    return [make_application(to=Status.GRANTED, title="Trygg i centrum"),
            make_application(to=Status.REJECTED, organisation=malmo, title="Fältarbete")]


def test_the_auditor_lands_on_the_decision_log_and_searches_it(open_page, assert_accessible, users, decided_cases):
    granted, rejected = decided_cases
    page = open_page(user=users.auditor)
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Beslutslogg")
    expect(page.get_by_role("link", name="Beslutslogg")).to_have_attribute("aria-current", "page")
    table = page.get_by_role("table")
    expect(table.get_by_role("link", name=granted.case.diarienummer, exact=True)).to_be_visible()
    expect(table).to_contain_text("Avslag")
    assert_accessible(page, "decision log")

    page.get_by_label("Sök i skälen").fill("kommunerna")
    page.get_by_role("button", name="Visa").click()
    expect(page.get_by_role("table")).to_contain_text("Beviljad")
    expect(page.get_by_role("table")).not_to_contain_text("Avslag")
    assert_accessible(page, "decision log searched")

    page.get_by_label("Beslutat belopp från (kr)").fill("500000")
    page.get_by_label("Beslutat belopp till (kr)").fill("100")
    page.get_by_role("button", name="Visa").click()
    expect(page.locator(".field__errors")).to_contain_text("lägre än beloppet från")
    assert_accessible(page, "decision log with an invalid filter")

    page.goto("/beslutslogg/")
    with page.expect_download() as download:
        page.get_by_role("link", name="CSV (för Excel)").click()
    exported = download.value.path().read_text(encoding="utf-8-sig")
    assert granted.case.diarienummer in exported and rejected.case.diarienummer in exported

    page.get_by_role("link", name="Gjorda exporter").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Gjorda exporter")
    expect(page.get_by_role("table")).to_contain_text(users.auditor.get_full_name() or users.auditor.username)
    assert_accessible(page, "export list")

    page.goto("/beslutslogg/")
    page.locator(f'a[href="/arenden/{granted.pk}/journal/"]').click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Händelselogg: {granted.title}")
    expect(page.get_by_role("table").first).to_be_visible()
    assert_accessible(page, "case journal")


def test_the_decision_log_reflows_at_320_px(open_page, users, decided_cases):
    page = open_page(user=users.auditor, viewport=NARROW)
    page.goto("/beslutslogg/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Beslutslogg")
    assert_no_horizontal_scroll(page, "decision log")
