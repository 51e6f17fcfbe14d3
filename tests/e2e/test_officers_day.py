"""An officer's day at Brå in Chromium, through the staff pages themselves: the queue with
its filters, claiming a task, a supplement request from the checklist, scoring, the
ranking's simulator, a decision proposal with its reasons, the decision by another person
(MF 21 §) and its letter, a batch decision from the ranking, the payment file and the
bank's statement, and a repayment claim after the final report. Axe (WCAG 2.1 A/AA) on
each main page.

Setup (and what the applicant does) goes through the services and the door (perform()); the
staff actions under test are clicks and keystrokes on the pages.
"""

import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from bidrag.models import Application, Decision, Disbursement, Organisation, Proposal, Repayment
from bidrag.models.application import Status
from bidrag.models.assessment import criteria_of
from tests.bidrag.payments_cases import camt054_from
from tests.domain import MALMO, NOT_COMMUNICATED, REFUSAL_REASONS, STOCKHOLM, perform
from workflows import demo

REPAYMENT_REASONS = (
    "Slutrapporten visar att 20 000 kr av bidraget har gått till lokalhyra för föreningens ordinarie "
    "verksamhet, alltså löpande kostnader som villkoren i beslutet inte tillåter."
)


@pytest.fixture(autouse=True)
def bra_bankgiro(settings):
    """Brå's own bankgiro: the debtor of the payment file and the payee of a repayment."""
    settings.BRA_BANKGIRO = "5050-1055"


def fresh(application) -> Application:
    # A fresh instance, not refresh_from_db() (see workflows/views.py submit()).
    return Application.objects.select_related("case", "organisation").get(pk=application.pk)


def case_page(page, application):
    page.goto(f"/arenden/{application.pk}/")
    expect(page.get_by_role("heading", level=1)).to_have_text(application.title)


def claim(page, task_title: str):
    """Takes the named task on the case page, which must be offered to this person."""
    tasks = page.locator("#uppgifter .task").filter(has_text=task_title)
    expect(tasks).to_have_count(1)
    tasks.get_by_role("button", name=re.compile(r"^Ta uppgiften")).click()
    expect(page.get_by_role("status")).to_contain_text("Du har tagit uppgiften.")
    expect(page.locator("#uppgifter .task").filter(has_text=task_title)).to_contain_text("Tilldelad:")


def take_action(page, link: str, heading: str | None = None):
    page.locator("#uppgifter .action-list").get_by_role("link", name=link, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(heading or link)


def fact(scope, term: str):
    """The <dd> of a <dl class="facts"> entry, by its <dt>."""
    return scope.locator(".facts > div").filter(has=scope.page.locator("dt", has_text=term)).locator("dd").first


def summary_total(page) -> str:
    return page.locator("#summering div").filter(has_text="Summa av alla belopp").locator("dd").inner_text()


def test_the_queue_filtered_a_task_claimed_and_a_supplement_asked_for(open_page, users, make_application, call,
                                                                      assert_accessible):
    stockholm = Organisation.objects.get(orgnr=STOCKHOLM)
    ours = make_application(to=Status.IN_REVIEW, organisation=stockholm, title="Trygga torg i Stockholm")
    other = make_application(to=Status.IN_REVIEW, organisation=Organisation.objects.get(orgnr=MALMO),
                             title="Föräldravandringar i Malmö")
    page = open_page(user=users.officer)

    page.goto("/handlaggning/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Handläggning")
    queue = page.get_by_role("table", name=re.compile("Uppgifter i kön"))
    expect(queue).to_contain_text(ours.case.diarienummer)
    expect(queue).to_contain_text(other.case.diarienummer)

    # By call and by county (Stockholm is in län 01, Malmö in Skåne).
    page.get_by_label("Utlysning").select_option(label=call.title)
    page.get_by_label("Län", exact=True).select_option(label="Stockholms län")
    page.get_by_role("button", name="Visa").click()
    expect(page).to_have_url(re.compile(r"lan=01"))
    expect(page.get_by_label("Län", exact=True)).to_have_value("01")
    expect(page.get_by_role("heading", level=2, name=re.compile(r"\(1 uppgift\)"))).to_be_visible()
    expect(queue.locator("tbody tr")).to_have_count(1)
    expect(queue).to_contain_text("Stockholms kommun")
    expect(queue).not_to_contain_text(other.case.diarienummer)
    expect(page.get_by_role("link", name="Rensa filter")).to_be_visible()
    assert_accessible(page, "queue filtered by call and county")

    # Another county: the Stockholm case is not in it.
    page.get_by_label("Län", exact=True).select_option(label="Skåne län")
    page.get_by_role("button", name="Visa").click()
    expect(queue).to_contain_text(other.case.diarienummer)
    expect(queue).not_to_contain_text(ours.case.diarienummer)
    page.get_by_role("link", name="Rensa filter").click()
    expect(queue).to_contain_text(ours.case.diarienummer)
    expect(queue).to_contain_text(other.case.diarienummer)
    expect(page.get_by_label("Län", exact=True)).to_have_value("")
    page.get_by_label("Utlysning").select_option(label=call.title)
    page.get_by_label("Län", exact=True).select_option(label="Stockholms län")
    page.get_by_role("button", name="Visa").click()
    expect(queue.locator("tbody tr")).to_have_count(1)

    # The case from the queue, and the review task claimed.
    queue.get_by_role("link", name=ours.case.diarienummer).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(ours.title)
    expect(page.locator("#uppgifter")).to_contain_text("Ingen har tagit uppgiften.")
    claim(page, "Granska ansökan (formalia)")
    expect(page.locator("#uppgifter")).to_contain_text("Tilldelad: Hanna Handläggare")
    assert_accessible(page, "case page with the claimed review task")

    # The claimed task is in "Mina" in the queue, and no longer in "Ej tilldelade".
    page.goto("/handlaggning/")
    page.get_by_role("link", name=re.compile(r"^Mina \(1\)")).click()
    expect(queue.locator("tbody tr")).to_have_count(1)
    expect(queue.locator("tbody tr")).to_contain_text(ours.case.diarienummer)
    expect(queue.locator("tbody tr")).to_contain_text("Hanna Handläggare")
    page.get_by_role("link", name=re.compile(r"^Ej tilldelade")).click()
    expect(queue).to_contain_text(other.case.diarienummer)
    expect(queue).not_to_contain_text(ours.case.diarienummer)
    case_page(page, ours)

    # The supplement request: the budget ticked on the checklist, a deadline.
    take_action(page, "Begär komplettering")
    deadline = timezone.localdate() + timedelta(days=21)
    page.get_by_role("checkbox", name="Budget", exact=True).check()
    page.get_by_label("Beskriv vad sökanden behöver göra").fill("Dela upp personalkostnaden per år.")
    page.get_by_label("Svara senast").fill(deadline.isoformat())
    assert_accessible(page, "supplement request form")
    page.get_by_role("button", name="Begär komplettering").click()
    expect(page.get_by_role("status")).to_contain_text("Klart: Begär komplettering.")
    expect(page.locator(".status-line")).to_contain_text("Väntar på komplettering")
    letters = page.locator("#skriftvaxling")
    request = letters.locator(".card").filter(has_text="Brå till sökanden")
    expect(request).to_have_count(1)
    expect(request).to_contain_text("Budget")
    expect(request).to_contain_text("Dela upp personalkostnaden per år.")
    expect(request).to_contain_text("Svara senast")
    assert fresh(ours).status == Status.AWAITING_SUPPLEMENT and fresh(ours).deadline == deadline

    # The applicant answers (through the door); the answer is in the correspondence.
    perform(actor=users.applicant, application=ours, node="await_supplement", action="receive_supplement",
            data={"answer": "Personalkostnaden är nu uppdelad per år."})
    page.reload()
    answer = letters.locator(".card").filter(has_text="Sökanden till Brå")
    expect(answer).to_contain_text("Personalkostnaden är nu uppdelad per år.")
    expect(page.locator(".status-line")).to_contain_text("Under granskning")


def test_scoring_the_ranking_simulator_and_a_rejection_proposed(open_page, users, make_application, call,
                                                               assert_accessible):
    organisations = Organisation.objects.exclude(kommunkod="").order_by("kommunkod")[:3]
    ours, *others = [make_application(to=Status.IN_ASSESSMENT, organisation=organisation,
                                      title=f"Trygghetsvandringar i {organisation.name}")
                     for organisation in organisations]
    criteria = criteria_of(call)
    assert criteria
    for value, application in zip((5, 4), others, strict=True):
        perform(actor=users.officer, application=application, node="assess", action="score",
                data={"scores": {c["code"]: (value, "Motiverat utifrån lägesbilden") for c in criteria}})
    call.budget = Decimal("700000")
    call.save(update_fields=["budget"])
    page = open_page(user=users.officer)

    # Scores every criterion on the form.
    case_page(page, ours)
    take_action(page, "Bedöm enligt kriterierna")
    for criterion in criteria:
        page.locator(f"input[name='score_{criterion['code']}'][value='2']").check()
        page.get_by_label(f"{criterion['name']}: motivering").fill(f"{criterion['name']}: svagt underbyggt.")
    assert_accessible(page, "score form")
    page.get_by_role("button", name="Bedöm enligt kriterierna").click()
    expect(page.get_by_role("status")).to_contain_text("Klart: Bedöm enligt kriterierna.")
    scores = page.get_by_role("table", name=re.compile("Poäng per bedömningsgrund"))
    mine = scores.locator("tbody tr").filter(has_text="Hanna Handläggare")
    expect(mine).to_contain_text(f"{2 * len(criteria)} av")

    # The ranking: ours last (lowest score); three times 300 000 kr against 700 000 kr.
    page.goto(f"/handlaggning/rangordning/{call.pk}/")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Rangordning: {call.title}")
    rows = page.locator("main table tbody tr[id^=plats-]")
    expect(rows).to_have_count(3)
    expect(page.locator("#plats-3")).to_contain_text(ours.case.diarienummer)
    expect(page.locator("#plats-3")).to_contain_text("Ryms delvis")
    assert summary_total(page).replace("\xa0", " ") == "900 000 kr (200 000 kr mer än budgeten)"
    assert_accessible(page, "ranking page")

    # Cut the first: ours now fits, and the total goes down.
    page.locator("#stryk-1").check()
    page.get_by_role("button", name="Räkna om").first.click()
    expect(page.get_by_role("heading", name="Det här flyttas av dina ändringar")).to_be_visible()
    came_in = page.locator("section.callout p").filter(has_text="Ryms nu i budgeten:")
    expect(came_in).to_contain_text(ours.case.diarienummer)
    assert summary_total(page).replace("\xa0", " ") == "600 000 kr"
    expect(page.locator("#plats-1")).to_contain_text("struken")

    # A partial amount for the second, on top of the cut: the total follows.
    page.locator("#rad-2").check()
    page.get_by_label("Nytt belopp för vald ansökan (kr)").fill("150 000")
    page.get_by_role("button", name="Räkna om").first.click()
    expect(page.locator("#plats-2")).to_contain_text("ändrat")
    assert summary_total(page).replace("\xa0", " ") == "450 000 kr"
    assert_accessible(page, "ranking page with simulated changes")
    assert fresh(ours).status == Status.IN_ASSESSMENT  # the simulation changes nothing

    # Proposes a rejection, with specific reasons and the FL 25 § note.
    case_page(page, ours)
    take_action(page, "Lägg beslutsförslag")
    page.get_by_role("radio", name="Avslå").check()
    page.get_by_label("Skäl (FL 32 §)").fill(REFUSAL_REASONS)
    # Without the FL 25 § note a rejection that was not communicated is refused.
    page.get_by_role("button", name="Lägg beslutsförslag").click()
    expect(page.locator("main")).to_contain_text("kommunicera underlaget först (FL 25 §)")
    expect(page.get_by_role("heading", level=1)).to_have_text("Lägg beslutsförslag")
    assert fresh(ours).status == Status.IN_ASSESSMENT
    assert not Proposal.objects.filter(application=ours).exists()
    page.get_by_role("radio", name="Avslå").check()
    expect(page.get_by_label("Skäl (FL 32 §)")).to_have_value(REFUSAL_REASONS)
    page.get_by_label("Varför underlaget inte behöver kommuniceras (FL 25 §)").fill(NOT_COMMUNICATED)
    assert_accessible(page, "proposal form")
    page.get_by_role("button", name="Lägg beslutsförslag").click()
    expect(page.get_by_role("status")).to_contain_text("Klart: Lägg beslutsförslag.")
    expect(page.locator(".status-line")).to_contain_text("Beslutsförslag")
    proposal = page.locator("#forslag-och-beslut article.card").first
    expect(proposal.get_by_role("heading", level=4)).to_contain_text("Beslutsförslag: Avslå")
    expect(proposal).to_contain_text(REFUSAL_REASONS)
    expect(proposal).to_contain_text(NOT_COMMUNICATED)
    expect(proposal).to_contain_text("Hanna Handläggare")
    assert fresh(ours).status == Status.DECISION_PROPOSED
    assert Proposal.objects.get(application=ours, is_open=True).outcome == Proposal.Outcome.REJECTED


def test_the_decision_maker_decides_with_a_participant_and_the_letter_is_a_pdf(open_page, users, make_application,
                                                                              assert_accessible):
    application = make_application(to=Status.DECISION_PROPOSED, title="Föräldranätverk i centrum")
    page = open_page(user=users.decision_maker)
    case_page(page, application)
    claim(page, "Fatta beslut")
    take_action(page, "Besluta enligt förslaget")

    # The proposal is on the decide page: outcome, amount, reasons, proposer.
    basis = page.locator("section.callout").filter(has=page.get_by_role("heading", name="Förslaget du beslutar om"))
    expect(basis).to_have_count(1)
    expect(fact(basis, "Föreslaget utfall")).to_have_text("Bevilja")
    expect(fact(basis, "Föreslaget belopp")).to_have_text("250\xa0000\xa0kr")
    expect(fact(basis, "Föredragande")).to_contain_text("Hanna Handläggare")
    expect(basis).to_contain_text("Projektet är relevant, genomförbart och långsiktigt.")
    expect(basis).to_contain_text("Slutrapport senast tre månader efter projektets slut.")
    assert_accessible(page, "decide page")

    page.get_by_role("checkbox", name="Hugo Handläggare").check()
    page.get_by_role("button", name="Besluta enligt förslaget").click()
    expect(page.get_by_role("status")).to_contain_text("Klart: Besluta enligt förslaget.")
    expect(page.locator(".status-line")).to_contain_text("Beviljad")
    decision = page.locator("#forslag-och-beslut article.decision")
    expect(decision).to_have_count(1)
    expect(decision).to_contain_text("Berit Beslutsfattare")
    expect(decision).to_contain_text("250 000")
    made = Decision.objects.get(application=application)
    assert made.decided_by == users.decision_maker and made.presented_by == users.officer
    assert users.officer2 in made.participants.all()
    assert_accessible(page, "case page with the decision")

    with page.expect_download() as letter:
        decision.get_by_role("link", name=re.compile(r"Beslutsbrevet .* \(PDF\)")).click()
    assert letter.value.suggested_filename.endswith(".pdf")
    assert Path(letter.value.path()).read_bytes().startswith(b"%PDF-")


def test_a_batch_decision_from_the_ranking(open_page, users, make_application, call, assert_accessible):
    organisations = Organisation.objects.exclude(kommunkod="").order_by("kommunkod")[:2]
    proposed = [make_application(to=Status.DECISION_PROPOSED, organisation=organisation,
                                 title=f"Trygghetssamordnare i {organisation.name}") for organisation in organisations]
    page = open_page(user=users.decision_maker)
    page.goto(f"/handlaggning/rangordning/{call.pk}/")
    for application in proposed:
        page.get_by_role("checkbox", name=f"Besluta enligt förslaget {application.case.diarienummer}").check()
    page.get_by_role("button", name="Besluta markerade förslag").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Besluta 2 förslag")
    for application in proposed:
        card = page.locator("li.card").filter(has_text=application.case.diarienummer)
        expect(card).to_contain_text("250 000")
        expect(card).to_contain_text("Hanna Handläggare")
    assert_accessible(page, "batch decision confirmation")
    assert all(fresh(a).status == Status.DECISION_PROPOSED for a in proposed)  # nothing yet

    page.get_by_role("button", name="Fatta 2 beslut enligt förslagen").click()
    expect(page.get_by_role("status")).to_contain_text("2 beslut är fattade enligt förslagen.")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Rangordning: {call.title}")
    for application in proposed:
        assert fresh(application).status == Status.GRANTED
        assert Decision.objects.get(application=application).decided_by == users.decision_maker
    expect(page.locator("main table tbody")).to_contain_text("Beslut:")


def test_the_disbursement_prepared_attested_and_paid_by_the_bank_statement(open_page, users, make_application,
                                                                           assert_accessible):
    application = make_application(to=Status.GRANTED, title="Belysning på torget")
    organisation = demo.payment_account_ensure(organisation=application.organisation)
    assert organisation.payment_method == "bankgiro" and organisation.payment_account

    # The officer prepares, finance attests.
    for user, task, link in ((users.officer, "Förbered utbetalning", "Förbered utbetalning av beviljat belopp"),
                             (users.finance, "Attestera utbetalning", "Attestera utbetalningen")):
        page = open_page(user=user)
        case_page(page, application)
        claim(page, task)
        take_action(page, link)
        page.get_by_role("button", name=link).click()
        expect(page.get_by_role("status")).to_contain_text(f"Klart: {link}.")
    disbursement = Disbursement.objects.get(application=application)
    assert disbursement.status == Disbursement.Status.ATTESTED and disbursement.attested_by == users.finance

    # Another in finance pays: the file to the bank from the payments page.
    page = open_page(user=users.finance2)
    page.goto("/ekonomi/betalningar/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Betalningar")
    row = page.locator("#betalfil tbody tr").filter(has_text=application.case.diarienummer)
    expect(row).to_contain_text(organisation.name)
    expect(row).to_contain_text("250 000")
    assert_accessible(page, "payments page")
    page.get_by_label("Betalningsdag").fill((timezone.localdate() + timedelta(days=1)).isoformat())
    with page.expect_download() as download:
        page.get_by_role("button", name="Ladda ned betalfil (pain.001)").click()
    pain = Path(download.value.path()).read_bytes()
    assert b"pain.001.001.03" in pain
    assert b">250000.00<" in pain
    assert organisation.name.encode() in pain
    assert organisation.payment_account.encode() in pain

    # The bank's debit notification for that file, read back: registered as paid.
    page.get_by_label(re.compile("Kontoutdrag från banken")).set_input_files(
        {"name": "camt054.xml", "mimeType": "application/xml", "buffer": camt054_from(pain, message_id="CAMT-DAG")})
    page.get_by_role("button", name="Läs in och registrera").click()
    expect(page.get_by_role("heading", name="Kontoutdrag CAMT-DAG")).to_be_visible()
    expect(page.locator("#avstamning")).to_contain_text("1 utbetalning registrerad som utbetald.")
    expect(page.locator("#avstamning tbody")).to_contain_text("Registrerad som utbetald")
    assert_accessible(page, "payments page after the statement")
    disbursement.refresh_from_db()
    assert disbursement.status == Disbursement.Status.PAID and disbursement.paid_by == users.finance2
    assert fresh(application).status == Status.IN_PROGRESS
    assert disbursement.payment_reference.startswith("camt.054.001.02 CAMT-DAG")
    page.locator("#avstamning").get_by_role("link", name=application.case.diarienummer).click()
    paid = page.get_by_role("table", name="Utbetalningar").locator("tbody tr")
    expect(paid).to_have_count(1)
    expect(paid).to_contain_text("Utbetald")
    expect(paid).to_contain_text("Elsa Ekonom")
    expect(paid).to_contain_text("CAMT-DAG")


def test_the_final_report_reviewed_and_a_repayment_claimed(open_page, users, make_application, assert_accessible):
    application = make_application(to=Status.IN_PROGRESS, title="Fältarbete kvällstid")
    perform(actor=users.signatory, application=application, node="await_report", action="submit_report",
            data=demo.final_report(application))
    assert fresh(application).status == Status.REPORT_REVIEW

    # The officer reads the report on the case page and proposes a repayment.
    page = open_page(user=users.officer)
    case_page(page, application)
    expect(page.locator("#uppfoljning")).to_contain_text("24 trygghetsvandringar")
    claim(page, "Granska slutrapport")
    take_action(page, "Föreslå återkrav")
    page.get_by_label("Belopp att återkräva (kr)").fill("20000")
    page.get_by_label("Grund för återkravet").fill(REPAYMENT_REASONS)
    page.get_by_role("button", name="Föreslå återkrav").click()
    expect(page.get_by_role("status")).to_contain_text("Klart: Föreslå återkrav.")
    proposal = page.locator("#forslag-och-beslut article.card").filter(has_text="Återkrav")
    expect(proposal.first).to_contain_text(REPAYMENT_REASONS)

    # The decision maker claims it.
    page = open_page(user=users.decision_maker)
    case_page(page, application)
    claim(page, "Besluta om återkrav")
    take_action(page, "Besluta om återkrav")
    basis = page.locator("section.callout").filter(has=page.get_by_role("heading", name="Förslaget du beslutar om"))
    expect(fact(basis, "Föreslaget belopp")).to_have_text("20\xa0000\xa0kr")
    expect(fact(basis, "Föredragande")).to_contain_text("Hanna Handläggare")
    expect(basis).to_contain_text(REPAYMENT_REASONS)
    page.get_by_role("button", name="Besluta om återkrav").click()
    expect(page.get_by_role("status")).to_contain_text("Klart: Besluta om återkrav.")
    expect(page.locator(".status-line")).to_contain_text("Återkrav")

    repayment = Repayment.objects.get(application=application)
    assert repayment.amount == Decimal("20000") and repayment.ocr and repayment.due_on
    claims = page.get_by_role("table", name="Återkrav")
    expect(claims).to_contain_text(repayment.ocr)
    expect(claims).to_contain_text(repayment.due_on.isoformat())
    expect(claims).to_contain_text("20 000")
    assert_accessible(page, "case page with the repayment claimed")
