"""Issue 6, the whole journey of a municipality's coordinator in Chromium: the public calls,
e-ID login against a real OpenID Connect provider on loopback, the organisation and the
signing mandate, every step of the form, the upload, the submission, a supplement, the
decision, a change to the budget and the final report. Axe finds no WCAG 2.1 AA violation
on any page the coordinator sees, at 1280 and at 320 px.

Every step the coordinator takes is a click or a keystroke. Brå's side (the registrar's
confirmation of the mandate, registration, assessment, decision, payment) is taken through
its services and the door, as its own pages have their browser tests elsewhere.
"""

import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from playwright.sync_api import expect

from bidrag.models import Application, Membership, Organisation, Proposal, Report
from bidrag.models.application import Status
from bidrag.services.organisations import mandate_decide
from konton.models import EIdentity
from tests.domain import perform
from tests.harness.oidc import OIDCProvider
from workflows import demo

from .drafting import add_budget_line, diarienummer_on, fill_steps, upload

PERSONNUMMER = "191212121212"  # Skatteverket's test person Tolvan Tolvansson


@pytest.fixture
def eid_broker(live_server, settings):
    """A provider that sends the browser back to this test's live server."""
    provider = OIDCProvider(redirect_uris=(f"{live_server.url}/logga-in/e-legitimation/retur/",))
    provider.start()
    for name, value in provider.django_settings().items():
        setattr(settings, name, value)
    yield provider
    provider.stop()


@pytest.mark.parametrize("width", [1280, 320])
def test_a_coordinator_from_the_public_calls_to_the_final_report(
    open_page, assert_accessible, eid_broker, users, call, tmp_path, width
):
    checked = []

    def check(page, name):
        assert_accessible(page, f"{name} at {width} px")
        checked.append(name)

    municipality = Organisation.objects.filter(kommunkod__gt="", memberships__isnull=True).order_by("kommunkod").first()
    page = open_page(viewport={"width": width, "height": 900})

    # The public start page and the call's own page, no login.
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    check(page, "start page")
    page.get_by_role("link", name=call.title).first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(call.title)
    check(page, "call page")

    # Logs in with e-ID at the broker: the person comes from the personnummer claim.
    page.get_by_role("link", name="Logga in och ansök").click()
    check(page, "login page")
    page.get_by_role("button", name="Logga in med e-legitimation").click()
    page.locator("#personnummer").fill(PERSONNUMMER)
    page.locator("#given_name").fill("Tolvan")
    page.locator("#family_name").fill("Tolvansson")
    page.get_by_role("button", name="Logga in").click()
    page.get_by_role("button", name="Godkänn").click()
    expect(page.get_by_role("button", name="Logga ut")).to_be_visible()
    person = EIdentity.objects.get(personnummer=PERSONNUMMER).user
    assert person.get_full_name() == "Tolvan Tolvansson"

    # Joins the municipality and asks to sign for it, with the delegation extract.
    page.goto("/organisationer/")
    check(page, "my organisations")
    page.get_by_role("link", name="Lägg till organisation").click()
    page.get_by_label("Organisationsnummer").fill(municipality.orgnr)
    page.get_by_role("button", name="Kontrollera numret").click()
    expect(page.get_by_text(municipality.name).first).to_be_visible()
    check(page, "organisation found")
    page.locator("button[name=confirm]").click()
    proof = tmp_path / "delegationsordning.pdf"
    proof.write_bytes(b"%PDF-1.4\n% delegationsordning\n%%EOF\n")
    page.goto(f"/organisationer/{municipality.pk}/")
    page.locator("#id_document").set_input_files(proof)
    page.get_by_role("button", name="Skicka in beviset").click()
    expect(page.get_by_role("status")).to_contain_text("Beviset är inskickat")
    check(page, "organisation with the mandate asked for")
    membership = Membership.objects.get(organisation=municipality, user=person)
    mandate_decide(actor=users.registrar, membership_key=membership.key, confirm=True)

    # Creates the draft from the call's page and fills in every step.
    page.goto(f"/utlysningar/{call.pk}/")
    page.get_by_role("link", name="Skapa ansökan").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ny ansökan")
    check(page, "new application")
    title = f"Trygga torg i {municipality.name}"
    page.get_by_label("Projektets namn").fill(title)
    page.get_by_label("Inriktning").select_option(str(call.tracks.order_by("position").first().pk))
    page.get_by_role("button", name="Skapa utkast").click()
    today = timezone.localdate()
    # Under way from today to the year's end (one calendar year: no per-year budget split).
    fill_steps(page, start=today.isoformat(), end=today.replace(month=12, day=31).isoformat(), check=check)
    add_budget_line(page, "staff", "Trygghetssamordnare 50 %", "250 000")
    add_budget_line(page, "material", "Trycksaker och material", "30 000")
    check(page, "budget")
    page.get_by_role("button", name="Fortsätt till Bilagor").click()
    for kind in ["lagesbild", "atgardsplan", "behorighet"]:
        upload(page, tmp_path, kind)
    check(page, "attachments")
    page.get_by_role("button", name="Fortsätt till Sammanfattning").click()
    expect(page.locator("#skicka-in")).to_contain_text("Allt som krävs är ifyllt")
    check(page, "summary")

    # Signs and submits.
    page.get_by_role("link", name="Granska och skicka in").click()
    check(page, "submit page")
    page.get_by_role("button", name="Signera och skicka in").click()
    expect(page.get_by_role("status")).to_contain_text("Ansökan är inskickad")
    expect(page.get_by_role("heading", name="Vad händer nu?")).to_be_visible()
    diarienummer_on(page)
    check(page, "application after submission")
    application = Application.objects.get(title=title)

    # Brå registers and asks for a supplement; the coordinator answers with a file.
    perform(actor=users.registrar, application=application, node="register", action="register")
    perform(actor=users.officer, application=application, node="review", action="request_supplement",
            data={"deadline": today + timedelta(days=14), "request_text": "Bifoga styrgruppens protokoll."})
    page.reload()
    expect(page.get_by_text("Bifoga styrgruppens protokoll.").first).to_be_visible()
    check(page, "supplement requested")
    page.get_by_role("link", name="Skicka komplettering").click()
    page.get_by_label("Ert svar").fill("Protokollet från styrgruppen bifogas.")
    answer = tmp_path / "protokoll.pdf"
    answer.write_bytes(b"%PDF-1.4\n% protokoll\n%%EOF\n")
    page.get_by_label("Bifoga fil (valfritt)").set_input_files(answer)
    check(page, "supplement form")
    page.get_by_role("button", name="Skicka komplettering").click()
    expect(page.get_by_role("status")).to_contain_text("Klart")

    # Brå assesses, decides and pays.
    perform(actor=users.officer, application=application, node="review", action="start_assessment")
    perform(actor=users.officer, application=application, node="assess", action="propose_decision",
            data={"outcome": Proposal.Outcome.GRANTED, "amount": Decimal("280000"),
                  "reasons": "Relevant, genomförbart och förankrat. Kostnaden för extern processledning "
                             "beviljas inte: samma uppgift ligger redan på kommunens samordnare.",
                  "communication_waived": "Beslutet grundas enbart på uppgifter som sökanden själv har lämnat."})
    perform(actor=users.decision_maker, application=application, node="decide", action="decide")
    demo.payment_account_ensure(organisation=application.organisation)  # the payee's bankgiro
    perform(actor=users.officer, application=application, node="prepare_payment", action="prepare_disbursement")
    perform(actor=users.finance, application=application, node="attest_payment", action="attest_disbursement")
    perform(actor=users.finance2, application=application, node="pay", action="pay_disbursement",
            data={"payment_reference": "PAIN001-RESA"})
    page.reload()
    expect(page.get_by_text("Relevant, genomförbart och förankrat.").first).to_be_visible()
    expect(page.get_by_text("Slutrapport senast")).to_be_visible()
    expect(page.get_by_role("heading", name="Hur man överklagar")).to_be_visible()
    check(page, "granted and paid")
    with page.expect_download() as letter:
        page.get_by_role("link", name=re.compile(r"Beslutsbrevet .* \(PDF\)")).click()
    assert letter.value.suggested_filename.startswith("beslut-")
    assert Path(letter.value.path()).read_bytes().startswith(b"%PDF-")

    # Moves a little money between the lines (below the threshold: made at once).
    page.get_by_role("link", name="Ändra budgeten").click()
    lines = {line.description: line for line in application.budget_lines.all()}
    page.get_by_label("Från budgetrad").select_option(str(lines["Trygghetssamordnare 50 %"].pk))
    page.get_by_label("Till budgetrad").select_option(str(lines["Trycksaker och material"].pk))
    page.get_by_label("Belopp (kr)").fill("2000")
    page.get_by_label("Skäl till ändringen").fill("Fler trygghetsvandringar kräver mer tryckt material.")
    check(page, "change form")
    page.get_by_role("button", name="Ändra budgeten").click()
    expect(page.get_by_role("table", name="Ändringar av budgeten")).to_contain_text("Genomförd")

    # The final report: each line's actual cost and the signed ledger extract.
    page.get_by_role("link", name="Skicka in slutrapport").click()
    for line in application.budget_lines.all():
        page.locator(f"#id_action-line_{line.pk}, #id_line_{line.pk}").first.fill(str(int(line.amount) - 1000))
    page.get_by_label("Genomförande och resultat").fill("Samordnaren anställdes; rånen på torget minskade.")
    ledger = tmp_path / "huvudbok.pdf"
    ledger.write_bytes(b"%PDF-1.4\n% huvudboksutdrag\n%%EOF\n")
    page.get_by_label("Ekonomisk redovisning").set_input_files(ledger)
    check(page, "final report form")
    page.get_by_role("button", name="Skicka in slutrapport").click()
    expect(page.get_by_role("status")).to_contain_text("Klart")
    check(page, "report submitted")

    application.refresh_from_db()
    assert application.status == Status.REPORT_REVIEW
    report = Report.objects.get(application=application, kind=Report.Kind.FINAL)
    assert report.actual_costs == Decimal("278000") and report.unused_amount == Decimal("2000")
    assert application.submitted_by == person and application.organisation == municipality
    assert get_user_model().objects.filter(pk=person.pk, eidentity__personnummer=PERSONNUMMER).exists()
    assert len(checked) >= 25, checked
