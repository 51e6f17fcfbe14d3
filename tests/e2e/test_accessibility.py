"""axe-core (WCAG 2.1 A and AA rules) on the main pages, in their normal and error states.

Each test opens the page as the person who uses it, checks that the page is the one meant
(so a redirect to the login page cannot pass for it), then scans it.
"""

import re

import pytest
from playwright.sync_api import expect

from bidrag.models.application import Status
from tests.e2e.test_keyboard_and_reflow import assert_no_horizontal_scroll


def test_login_page(open_page, assert_accessible):
    page = open_page()
    page.goto("/logga-in/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Logga in")
    assert_accessible(page, "login page")

    page.get_by_role("button", name="Logga in").click()
    expect(page.locator(".error-summary")).to_be_visible()
    assert_accessible(page, "login page with errors")

    page.get_by_label("Användarnamn").fill("finns-inte")
    page.get_by_label("Lösenord").fill("fel-lösenord")
    page.get_by_role("button", name="Logga in").click()
    expect(page.locator(".error-summary")).to_contain_text("korrekt")
    assert_accessible(page, "login page after a wrong password")


def test_application_list(open_page, assert_accessible, users, draft, make_application):
    make_application(to=Status.GRANTED, title="Beviljat projekt")
    page = open_page(user=users.signatory)
    page.goto("/ansokningar/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Mina ansökningar")
    table = page.get_by_role("table")
    expect(table.get_by_role("link", name=draft.title, exact=True)).to_be_visible()
    expect(table.get_by_role("link", name="Beviljat projekt", exact=True)).to_be_visible()
    expect(table).to_contain_text("Beviljad")
    assert_accessible(page, "application list")


@pytest.mark.parametrize("width", [1280, 320])
def test_every_step_of_the_draft(open_page, assert_accessible, users, draft, width):
    """Each step of the draft form, through the navigator, scanned at desktop width and at
    320 px, where nothing may scroll sideways (WCAG 1.4.10)."""
    page = open_page(user=users.applicant, viewport={"width": width, "height": 900})
    page.goto(f"/ansokningar/{draft.pk}/redigera/")
    expect(page).to_have_url(re.compile(r"/steg/sammanfattning/$"))  # every step is done
    titles = page.locator(".step-nav a").all_inner_texts()
    assert len(titles) == 13 and titles[0] == "Projekt" and titles[-1] == "Sammanfattning", titles
    for title in titles:
        page.locator(".step-nav").get_by_role("link", name=title, exact=True).click()
        expect(page.locator('.step-nav a[aria-current="step"]')).to_have_text(title)
        expect(page.get_by_role("heading", level=1)).to_contain_text(title)
        expect(page.get_by_text("Utkast – inte en allmän handling förrän den skickas in")).to_be_visible()
        assert_accessible(page, f"draft step {title} at {width} px")
        if width == 320:
            assert_no_horizontal_scroll(page, f"draft step {title}")


def test_draft_steps_with_errors(open_page, assert_accessible, users, draft, tmp_path):
    page = open_page(user=users.applicant)
    page.goto(f"/ansokningar/{draft.pk}/steg/bilagor/")
    expect(page.get_by_role("table", name="Bilagor")).to_be_visible()

    # A rejected upload: the service refuses the file type, the page says so.
    exe = tmp_path / "program.exe"
    exe.write_bytes(b"MZ\x90\x00" + b"\x00" * 60)
    page.locator("#id_kind").select_option("ovrigt")
    page.locator("#id_file").set_input_files(exe)
    page.get_by_role("button", name="Ladda upp").click()
    expect(page.get_by_role("alert").first).to_contain_text("Filtypen .exe tas inte emot")
    assert_accessible(page, "attachments step after a rejected upload")

    # The refusal came to the upload script: the page stayed, the message stands at the
    # file field, tied to it.
    expect(page.locator("#id_file")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#id_file_error")).to_contain_text("Filtypen .exe tas inte emot")

    # Field errors with the error summary: an upload without a file (the form is posted).
    page.locator("#id_file").set_input_files([])
    page.get_by_role("button", name="Ladda upp").click()
    expect(page.locator("#attachment-error-summary")).to_be_visible()
    expect(page.locator("#id_file")).to_have_attribute("aria-invalid", "true")
    assert_accessible(page, "attachments step with an invalid upload form")

    # A step refused on "Spara och fortsätt": the summary takes the focus, the errors stand
    # at the fields, what was typed is still there.
    page.goto(f"/ansokningar/{draft.pk}/steg/projekt/")
    page.locator("#id_title").fill("")
    page.locator("#id_start_date").fill("2030-06-01")
    page.locator("#id_end_date").fill("2030-01-01")
    page.get_by_role("button", name="Spara och fortsätt").click()
    expect(page.locator("#step-error-summary")).to_be_visible()
    expect(page.locator(".error-summary")).to_be_focused()
    expect(page.locator("#id_end_date")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#id_end_date")).to_have_value("2030-01-01")
    assert_accessible(page, "Projekt step with errors")

    page.goto(f"/ansokningar/{draft.pk}/steg/budget/")
    page.locator("#id_category").select_option("staff")
    page.locator("#id_description").fill("Samordnare")
    page.locator("#id_amount").fill("tusen kronor")
    page.get_by_role("button", name="Lägg till budgetrad").click()
    expect(page.locator("#id_amount")).to_have_attribute("aria-invalid", "true")
    assert_accessible(page, "budget step with a refused line")


def test_granted_application_detail(open_page, assert_accessible, users, make_application):
    application = make_application(to=Status.GRANTED, title="Beviljat projekt")
    page = open_page(user=users.signatory)
    page.goto(f"/ansokningar/{application.pk}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Beviljat projekt")
    expect(page.locator(".status-line")).to_contain_text("Beviljad")
    expect(page.get_by_role("region", name="Beslut", exact=True)).to_contain_text("250 000")
    assert_accessible(page, "granted application detail")


def test_submit_page(open_page, assert_accessible, users, draft):
    page = open_page(user=users.signatory)
    page.goto(f"/ansokningar/{draft.pk}/skicka-in/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Skicka in ansökan")
    expect(page.get_by_role("button", name="Signera och skicka in")).to_be_visible()
    assert_accessible(page, "submit page")


def test_submit_page_of_incomplete_draft(open_page, assert_accessible, users, cast, call, stockholm):
    from workflows import demo

    incomplete = demo.new_application(cast=cast, organisation=stockholm, call=call, title="Halvfärdigt", complete=False)
    page = open_page(user=users.signatory)
    page.goto(f"/ansokningar/{incomplete.pk}/skicka-in/")
    expect(page.get_by_role("heading", name="Ansökan är inte komplett")).to_be_visible()
    assert_accessible(page, "submit page of an incomplete draft")


def test_staff_queue(open_page, assert_accessible, users, make_application, malmo):
    make_application(to=Status.SUBMITTED, title="Trygga Stockholm")
    make_application(to=Status.SUBMITTED, title="Trygga Malmö", organisation=malmo)
    page = open_page(user=users.registrar)
    page.goto("/handlaggning/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Handläggning")
    rows = page.get_by_role("table").locator("tbody tr")
    expect(rows).to_have_count(2)
    assert_accessible(page, "staff queue")


def test_case_page(open_page, assert_accessible, users, make_application):
    application = make_application(to=Status.IN_ASSESSMENT, title="Bedöms nu")
    page = open_page(user=users.officer)
    page.goto(f"/arenden/{application.pk}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Bedöms nu")
    expect(page.get_by_role("table", name="Diarieförda handlingar").locator("tbody tr")).not_to_have_count(0)
    expect(page.get_by_role("table", name=re.compile("Händelser i ärendet")).locator("tbody tr")).not_to_have_count(0)
    expect(page.get_by_role("link", name="Lägg beslutsförslag")).to_be_visible()
    assert_accessible(page, "case page")


def test_task_action_form(open_page, assert_accessible, users, make_application):
    application = make_application(to=Status.IN_ASSESSMENT)
    page = open_page(user=users.officer)
    page.goto(f"/arenden/{application.pk}/uppgift/assess/propose_decision/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Lägg beslutsförslag")
    assert_accessible(page, "propose decision form")

    page.get_by_role("button", name="Lägg beslutsförslag").click()
    expect(page.locator("#action-error-summary")).to_be_visible()
    expect(page.locator("#id_reasons")).to_have_attribute("aria-invalid", "true")
    assert_accessible(page, "propose decision form with errors")


def test_not_found_page(open_page, assert_accessible):
    page = open_page()
    response = page.goto("/finns-inte/")
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Sidan finns inte")
    assert_accessible(page, "404 page")


def test_english_version(open_page, assert_accessible, users, draft):
    page = open_page(user=users.signatory)
    page.goto("/ansokningar/")
    page.get_by_label("Språk / Language").select_option("en")
    page.get_by_role("button", name="Byt språk").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text("My applications")
    expect(page).to_have_url(re.compile(r"/ansokningar/$"))
    assert_accessible(page, "application list in English")


def test_the_scan_finds_and_reports_violations(open_page, assert_accessible):
    """The checker itself: break the login page on purpose; the scan must fail and say where."""
    page = open_page()
    page.goto("/logga-in/")
    page.evaluate(
        """() => {
            document.querySelector('label[for=id_username]').remove();
            const img = document.createElement('img');
            img.src = 'data:image/gif;base64,R0lGODlhAQABAAAAACw=';
            img.className = 'broken-on-purpose';
            document.querySelector('main').append(img);
        }"""
    )
    try:
        assert_accessible(page, "deliberately broken login page")
    except AssertionError as failure:
        message = str(failure)
    else:
        raise AssertionError("axe reported no violation on a page with an unlabelled input and an image without alt")
    assert "label:" in message and "#id_username" in message
    assert "image-alt:" in message and 'class="broken-on-purpose"' in message


def test_jav_declared_barred_and_ruled(open_page, assert_accessible, users, make_application):
    """FL 16–18 §§ in the browser: the officer declares jäv and then sees only the diarium;
    a decision maker rules on it through the case page; every state of the page scanned."""
    application = make_application(to=Status.IN_REVIEW, title="Jävsfrågan")
    officer = open_page(user=users.officer)
    officer.goto(f"/arenden/{application.pk}/")
    # Offered folded away: nothing on the page says every case needs a declaration.
    expect(officer.get_by_label("Varför är du jävig?")).not_to_be_visible()
    officer.get_by_text("Är du jävig i ärendet? Anmäl jäv").click()
    officer.get_by_label("Varför är du jävig?").fill("Min svåger leder projektet")
    officer.get_by_role("button", name="Anmäl jäv").click()
    expect(officer.get_by_role("heading", level=1)).to_have_text("Du har anmält jäv i ärendet")
    expect(officer.get_by_role("table", name="Diarieförda handlingar")).to_be_visible()
    expect(officer.get_by_text("Jävsfrågan", exact=True)).to_have_count(0)  # not even the title as heading
    assert_accessible(officer, "case page of a jäv declarer")

    decider = open_page(user=users.decision_maker)
    decider.goto(f"/arenden/{application.pk}/")
    expect(decider.get_by_text("Jävsfrågan är inte avgjord")).to_be_visible()
    assert_accessible(decider, "case page with a jäv question to rule on")
    decider.get_by_label(re.compile("Nej, jäv föreligger inte")).check()
    decider.get_by_label("Skäl").fill("Avlägsen släkting utan intresse i saken")
    decider.get_by_role("button", name="Registrera beslut i jävsfrågan").click()
    expect(decider.get_by_text("har beslutat att jäv inte föreligger")).to_be_visible()
    assert_accessible(decider, "case page after the jäv ruling")

    officer.goto(f"/arenden/{application.pk}/")
    expect(officer.get_by_role("heading", level=1)).to_have_text("Jävsfrågan")
