"""Filling in a draft of scheme A step by step in the browser, as a coordinator would:
shared by the journeys in this folder."""

import re

from playwright.sync_api import expect

STEPS_A = [
    ("Problemanalys", {"#id_need": "Lägesbilden visar rån och skadegörelse kvällstid."}),
    ("Mål", {"#id_purpose": "Anställa en trygghetssamordnare för torget.", "#id_goals": "Färre rån på torget."}),
    ("Målgrupp", {"#id_target_group": "Unga som rör sig på torget kvällstid."}),
    ("Metod och åtgärder", {"#id_method": "Trygghetsvandringar och bättre belysning."}),
    ("Samverkan", {"#id_partners": "Polisen, fastighetsägare"}),
    ("Tidsplan", {"#id_plan": "Jan–mar rekrytering, apr–nov genomförande, dec uppföljning."}),
    ("Uppföljning och utvärdering", {"#id_evaluation": "Trygghetsmätning före och efter."}),
    ("Andra statliga bidrag", {}),
    ("Försäkringar", {}),
    ("Budget", {}),
]


def fill_steps(page, *, start: str, end: str, check=None) -> None:
    """From the Projekt step to the Budget step, each filled in and saved with "Spara och
    fortsätt"; `check(page, name)` is called on every step (axe, for instance)."""
    page.locator("#id_start_date").fill(start)
    page.locator("#id_end_date").fill(end)
    if check:
        check(page, "step Projekt")
    for heading, fields in STEPS_A:
        page.get_by_role("button", name="Spara och fortsätt").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text(heading)
        for selector, text in fields.items():
            page.locator(selector).fill(text)
        if heading == "Andra statliga bidrag":
            page.get_by_label("Nej").check()
        if heading == "Försäkringar":
            for box in page.get_by_role("checkbox").all():
                box.check()
        if check:
            check(page, f"step {heading}")
    expect(page.locator('.step-nav a[aria-current="step"]')).to_have_text("Budget")


def add_budget_line(page, category: str, description: str, amount: str) -> None:
    page.locator("#id_category").select_option(category)
    page.locator("#id_description").fill(description)
    page.locator("#id_amount").fill(amount)
    page.get_by_role("button", name="Lägg till budgetrad").click()
    expect(page.get_by_role("status")).to_contain_text("Budgetraden är tillagd")


def upload(page, tmp_path, kind: str, name: str | None = None) -> None:
    pdf = tmp_path / (name or f"{kind}.pdf")
    pdf.write_bytes(b"%PDF-1.4\n% " + kind.encode() + b"\n%%EOF\n")
    page.locator("#id_kind").select_option(kind)
    page.locator("#id_file").set_input_files(pdf)
    page.get_by_role("button", name="Ladda upp").click()
    # The upload script loads the step anew when the file is in: wait for this file in the
    # list (the message alone may still be the previous upload's, on the page before).
    expect(page.get_by_role("table", name="Bilagor")).to_contain_text(pdf.name)
    expect(page.get_by_role("status")).to_contain_text("Bilagan är uppladdad")


def diarienummer_on(page) -> str:
    facts = page.locator(".facts").first
    expect(facts).to_contain_text(re.compile(r"Diarienummer\s*\d{4}-\d{5}"))
    return re.search(r"\d{4}-\d{5}", facts.inner_text()).group()
