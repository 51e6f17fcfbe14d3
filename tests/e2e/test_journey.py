"""One application through the browser: the signatory drafts and submits, the registrar
registers. Every step is a click or a keystroke in Chromium; only the check at the end
reads the database."""

import re

from playwright.sync_api import expect

from bidrag.models import Application
from bidrag.models.application import Status
from workflows import demo


def test_signatory_submits_and_registrar_registers(open_page, users, stockholm, call, tmp_path):
    demo.signatory_mandate_ensure(organisation=stockholm, user=users.signatory, registrar=users.registrar)
    title = "Trygga torg i Stockholm"

    # The signatory creates a draft.
    page = open_page(user=users.signatory)
    page.goto("/ansokningar/")
    page.get_by_role("link", name="Skapa ny ansökan").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ny ansökan")
    page.get_by_label("Sökande organisation").select_option(label=str(stockholm))
    page.get_by_label("Utlysning").select_option(label=call.title)
    page.get_by_label("Projektets namn").fill(title)
    page.get_by_role("button", name="Skapa utkast").click()
    expect(page).to_have_url(re.compile(r"/ansokningar/[0-9a-f-]+/redigera/$"))
    expect(page.get_by_role("status")).to_contain_text("Utkastet är skapat")

    # Fills in the project.
    page.locator("#id_purpose").fill("Anställa en trygghetssamordnare för torget.")
    page.locator("#id_need").fill("Lägesbilden visar rån och skadegörelse kvällstid.")
    page.locator("#id_plan").fill("Jan–mar rekrytering, apr–nov genomförande, dec uppföljning.")
    page.locator("#id_partners").fill("Polisen, fastighetsägare")
    page.locator("#id_other_state_grants").fill("Inga")
    page.locator("#id_evaluation").fill("Trygghetsmätning före och efter.")
    year = call.closes_at.year + 1
    page.locator("#id_start_date").fill(f"{year}-01-01")
    page.locator("#id_end_date").fill(f"{year}-12-01")
    page.get_by_role("button", name="Spara utkast").click()
    expect(page.get_by_role("status")).to_contain_text("Utkastet är sparat")

    # Adds a budget line.
    page.locator("#id_category").select_option("staff")
    page.locator("#id_description").fill("Trygghetssamordnare 50 %")
    page.locator("#id_amount").fill("280000")
    page.get_by_role("button", name="Lägg till budgetrad").click()
    expect(page.get_by_role("status")).to_contain_text("Budgetraden är tillagd")
    expect(page.get_by_role("table", name="Projektets kostnader")).to_contain_text("280 000")

    # Uploads the three attachments the scheme requires.
    for kind in ["lagesbild", "atgardsplan", "behorighet"]:
        pdf = tmp_path / f"{kind}.pdf"
        pdf.write_bytes(b"%PDF-1.4\n% " + kind.encode() + b"\n%%EOF\n")
        page.locator("#id_kind").select_option(kind)
        page.locator("#id_file").set_input_files(pdf)
        page.get_by_role("button", name="Ladda upp").click()
        expect(page.get_by_role("status")).to_contain_text("Bilagan är uppladdad")
        expect(page.get_by_role("table", name="Bilagor")).to_contain_text(f"{kind}.pdf")
    expect(page.locator("#skicka-in")).to_contain_text("Allt som krävs är ifyllt")

    # Submits.
    page.get_by_role("link", name="Granska och skicka in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Skicka in ansökan")
    page.get_by_role("button", name="Signera och skicka in").click()
    expect(page.get_by_role("status")).to_contain_text("Ansökan är inskickad")
    expect(page.locator(".status-line")).to_contain_text("Inskickad")
    facts = page.locator(".facts").first
    expect(facts).to_contain_text(re.compile(r"Diarienummer\s*\d{4}-\d{5}"))
    diarienummer = re.search(r"\d{4}-\d{5}", facts.inner_text()).group()

    # The registrar, in a browser of their own, finds the case in the queue and registers it.
    staff = open_page(user=users.registrar)
    staff.goto("/handlaggning/")
    staff.get_by_role("link", name=diarienummer).click()
    expect(staff.get_by_role("heading", level=1)).to_have_text(title)
    staff.get_by_role("link", name="Registrera och lämna till handläggning").click()
    staff.get_by_label("Anteckning").fill("Inkommen i tid, komplett.")
    staff.get_by_role("button", name="Registrera och lämna till handläggning").click()
    expect(staff.get_by_role("status")).to_contain_text("Klart: Registrera och lämna till handläggning")
    expect(staff.locator(".status-line")).to_contain_text("Under granskning")

    application = Application.objects.get(title=title)
    assert application.status == Status.IN_REVIEW
    assert application.case.diarienummer == diarienummer
    assert application.organisation == stockholm
    assert sorted(application.case.attachments.values_list("kind", flat=True)) == ["atgardsplan", "behorighet", "lagesbild"]
    assert application.requested_amount() == 280000
