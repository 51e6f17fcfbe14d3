"""One application through the browser: the signatory drafts and submits, the registrar
registers. Every step is a click or a keystroke in Chromium; only the check at the end
reads the database."""

import re

from playwright.sync_api import expect

from bidrag.models import Application
from bidrag.models.application import Status
from workflows import demo

from .drafting import fill_steps


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
    page.get_by_label(re.compile("^Inriktning")).select_option(str(call.tracks.order_by("position").first().pk))
    page.get_by_role("button", name="Skapa utkast").click()
    expect(page).to_have_url(re.compile(r"/ansokningar/[0-9a-f-]+/steg/projekt/$"))
    expect(page.get_by_role("status")).to_contain_text("Utkastet är skapat")
    expect(page.get_by_text("Utkast – inte en allmän handling förrän den skickas in")).to_be_visible()

    # Walks every step, filling each in, with "Spara och fortsätt".
    year = call.closes_at.year + 1
    fill_steps(page, start=f"{year}-01-01", end=f"{year}-12-01")

    # Adds a budget line.
    page.locator("#id_category").select_option("staff")
    page.locator("#id_description").fill("Trygghetssamordnare 50 %")
    page.locator("#id_amount").fill("280 000")
    page.get_by_role("button", name="Lägg till budgetrad").click()
    expect(page.get_by_role("status")).to_contain_text("Budgetraden är tillagd")
    expect(page.get_by_role("table", name="Projektets kostnader")).to_contain_text("280 000")
    page.get_by_role("button", name="Fortsätt till Bilagor").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Bilagor")

    # Uploads the three attachments the scheme requires.
    for kind in ["lagesbild", "atgardsplan", "behorighet"]:
        pdf = tmp_path / f"{kind}.pdf"
        pdf.write_bytes(b"%PDF-1.4\n% " + kind.encode() + b"\n%%EOF\n")
        page.locator("#id_kind").select_option(kind)
        page.locator("#id_file").set_input_files(pdf)
        page.get_by_role("button", name="Ladda upp").click()
        expect(page.get_by_role("status")).to_contain_text("Bilagan är uppladdad")
        expect(page.get_by_role("table", name="Bilagor")).to_contain_text(f"{kind}.pdf")
    page.get_by_role("button", name="Fortsätt till Sammanfattning").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Sammanfattning")
    expect(page.locator("#skicka-in")).to_contain_text("Allt som krävs är ifyllt")
    expect(page.locator(".step-nav__state--missing")).to_have_count(0)

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


def test_autosave_in_the_browser_saves_while_typing_under_the_csp(open_page, users, draft):
    """htmx (served from this site) posts the step's fields after a pause in typing; the
    status line says when it was saved; the CSP has nothing to refuse."""
    refused = []
    page = open_page(user=users.applicant)
    page.on("console", lambda message: refused.append(message.text) if "Content Security Policy" in message.text else None)
    page.goto(f"/ansokningar/{draft.pk}/steg/malgrupp/")
    page.locator("#id_target_group").fill("Unga 13–18 år, skrivet utan att trycka Spara.")
    expect(page.locator("#autosave-status")).to_contain_text(re.compile(r"Sparat kl\. \d\d\.\d\d"))
    assert Application.objects.get(pk=draft.pk).target_group == "Unga 13–18 år, skrivet utan att trycka Spara."
    # Typed and straight away off to another step, before the pause: sent as the page goes.
    page.locator("#id_target_group").fill("Ändrat igen och genast vidare")
    page.locator(".step-nav").get_by_role("link", name="Metod och åtgärder").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Metod och åtgärder")
    for _attempt in range(50):
        if Application.objects.get(pk=draft.pk).target_group == "Ändrat igen och genast vidare":
            break
        page.wait_for_timeout(100)
    assert Application.objects.get(pk=draft.pk).target_group == "Ändrat igen och genast vidare"
    assert not refused, refused
