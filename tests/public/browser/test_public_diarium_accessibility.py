"""The public diarium in a browser (issue 7, OSL 5 kap.): axe (WCAG 2.1 A and AA) at 1280 px
and no sideways scroll at 320 px (WCAG 1.4.10), with a marked entry among the results."""

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from arenden.models import DiariumEntry
from bidrag.models.application import Status
from tests.e2e.test_keyboard_and_reflow import NARROW, assert_no_horizontal_scroll
from workflows.diarium import register_item


@pytest.mark.parametrize("viewport", [None, NARROW], ids=["1280px", "320px"])
def test_osl5_public_diarium_page_is_accessible(open_page, assert_accessible, make_application, cast, viewport):
    application = make_application(to=Status.IN_REVIEW)
    register_item(actor=cast.registrar, application_id=application.pk, data={
        "kind": DiariumEntry.Kind.EMAIL, "direction": DiariumEntry.Direction.INCOMING,
        "entry_date": timezone.localdate(), "counterpart": "Skyddad Avsändare", "description": "Hemlig sak",
        "counterpart_private": False, "secrecy": "OSL 21 kap. 7 §", "note": ""})
    page = open_page(viewport=viewport)
    page.goto("/diariet/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sök i Brås diarium")
    table = page.get_by_role("table", name="Diarieförda handlingar, nyast först")
    expect(table).to_contain_text("Uppgift omfattas av sekretess")
    expect(table).not_to_contain_text("Skyddad Avsändare")
    page.get_by_label("Diarienummer").fill(application.case.diarienummer)
    page.get_by_role("button", name="Sök", exact=True).click()
    expect(table).to_contain_text(application.case.diarienummer)
    assert_accessible(page, "public diarium")
    if viewport:
        assert_no_horizontal_scroll(page, "public diarium")
