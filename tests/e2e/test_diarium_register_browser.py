"""Registering an item in a case's diarium in a browser (issue 7, OSL 5 kap. 1 §, FL 27 §):
the registrar goes from the case page to the form, is told at the field what is missing,
registers a tjänsteanteckning and finds it in the case's diarium; axe (WCAG 2.1 A and AA)
on the form with its errors and on the case page."""

from playwright.sync_api import expect

from bidrag.models.application import Status


def test_fl27_registrar_registers_a_phone_note_in_the_browser(open_page, assert_accessible, make_application, users):
    application = make_application(to=Status.IN_REVIEW)
    page = open_page(user=users.registrar)
    page.goto(f"/arenden/{application.pk}/")
    page.get_by_role("link", name="Diarieför handling").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Diarieför handling")
    page.get_by_label("Typ av handling").select_option("tjansteanteckning")
    page.get_by_label("Upprättad").check()
    page.get_by_label("Avsändare/mottagare (obligatoriskt)", exact=True).fill("Stockholms stad")
    page.get_by_label("Kort beskrivning").fill("Telefonsamtal om lokalkostnaden")
    page.get_by_role("button", name="Diarieför").click()
    # A tjänsteanteckning without what was said is refused at the field (FL 27 §).
    expect(page.get_by_role("alert", name="Formuläret innehåller fel")).to_contain_text("Skriv ner vad som sades")
    assert_accessible(page, "diarium registration with errors")
    page.get_by_label("Anteckning").fill("Kontaktpersonen uppgav att lokalen delas med stadsdelen.")
    page.get_by_role("button", name="Diarieför").click()
    table = page.get_by_role("table", name="Diarieförda handlingar")
    expect(table).to_contain_text("Telefonsamtal om lokalkostnaden")
    expect(table).to_contain_text("Tjänsteanteckning (FL 27 §)")
    assert_accessible(page, "case page with the registered note")
