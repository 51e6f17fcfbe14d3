"""Lämna ut handlingar in a browser (issue 9, TF 2 kap., OSL): the registrar goes from the
case page to the production form, where a secret-marked item is withheld by default, is told
at the field that a withholding needs its reason, gives it and lands on the production's
page; axe (WCAG 2.1 A and AA) on the form, the form with its errors and the production."""

import pytest
from playwright.sync_api import expect

from arenden.models import DiariumEntry
from bidrag.models.application import Status
from tests.e2e.test_keyboard_and_reflow import assert_no_horizontal_scroll
from workflows.diarium import register_item
from workflows.production import production_items


@pytest.mark.parametrize("width", [1280, 320])
def test_tf2_registrar_produces_documents_in_the_browser(open_page, assert_accessible, make_application, users,
                                                         seaweedfs, width):
    from django.utils import timezone

    application = make_application(to=Status.IN_REVIEW)
    secret = register_item(actor=users.registrar, application_id=application.pk, data={
        "kind": DiariumEntry.Kind.EMAIL, "direction": DiariumEntry.Direction.INCOMING,
        "entry_date": timezone.localdate(), "counterpart": "Anonym tipsare", "counterpart_private": True,
        "description": "Uppgifter om enskilds ekonomi", "secrecy": "OSL 21 kap. 1 §", "note": "",
    })
    number = [item.key for item in production_items(application)].index(f"diarium-{secret.pk}") + 1
    page = open_page(user=users.registrar, viewport={"width": width, "height": 900})
    page.goto(f"/arenden/{application.pk}/")
    page.get_by_role("link", name="Lämna ut handlingar").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Lämna ut handlingar")
    item = page.locator(f"#handling-{number}")
    expect(item.get_by_label("Lämnas inte ut")).to_be_checked()
    expect(item.get_by_label("Bestämmelse i OSL")).to_have_value("OSL 21 kap. 1 §")
    assert_accessible(page, "production form")
    if width == 320:
        assert_no_horizontal_scroll(page, "production form")
    page.get_by_role("button", name="Lämna ut och skapa ZIP-fil").click()
    expect(page.get_by_role("alert", name="Formuläret innehåller fel")).to_contain_text(
        "Ange skälet till att handlingen inte lämnas ut.")
    assert_accessible(page, "production form with errors")
    page.locator(f"#handling-{number}").get_by_label("Skäl").fill("Uppgift om enskilds ekonomiska förhållanden.")
    page.get_by_role("button", name="Lämna ut och skapa ZIP-fil").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Utlämnande av handlingar")
    expect(page.get_by_role("table", name="Prövningen av varje handling")).to_contain_text("OSL 21 kap. 1 §")
    assert_accessible(page, "production page")
    if width == 320:
        assert_no_horizontal_scroll(page, "production page")
