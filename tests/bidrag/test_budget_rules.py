"""Issue 6, the budget: lines by category in Decimal SEK, refused with a clear message at the
field when the amount is not a number, not above zero or too large; a scheme's excluded cost
types refused with the rule named (data: GrantScheme.excluded_categories); a project over two
calendar years puts each line in a year and is totalled per year and in all, on the server;
the ceiling (track or scheme) and every rule explained next to the line or the total."""

import html
import re
from datetime import date
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from bidrag.models import Application, BudgetLine
from bidrag.models.application import Status
from bidrag.services.applications import submission_problems
from workflows import demo

pytestmark = pytest.mark.django_db

NBSP = "\u00a0"


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def budget_step(application) -> str:
    return reverse("bidrag:application_step", args=[application.pk, "budget"])


def add_line(client, application, **fields):
    data = {"category": "staff", "description": "Samordnare", "amount": "1000", **fields}
    return client.post(reverse("bidrag:budget_line_add", args=[application.pk]), data)


def field_error(page: str, field: str) -> str:
    found = re.search(rf'<ul class="field__errors" id="id_{field}_error">(.*?)</ul>', page, re.S)
    return html.unescape(re.sub(r"<[^>]+>", "", found.group(1))) if found else ""


def lines_of(application):
    return list(BudgetLine.objects.filter(application=application).order_by("pk").values_list("description", "amount"))


@pytest.mark.parametrize("amount, message", [
    ("-500", "Beloppet måste vara större än noll"),
    ("0", "Beloppet måste vara större än noll"),
    ("12345678901", "Beloppet är för stort"),
    ("99999999999999999999", "Beloppet är för stort"),
    ("tusen", "Skriv beloppet i kronor med siffror"),
    ("1e5", "Skriv beloppet i kronor med siffror"),
    ("12,345,6", "Skriv beloppet i kronor med siffror"),
    ("100,123", "högst två decimaler"),
    ("", "Ange beloppet"),
])
def test_bad_amounts_are_refused_at_the_field_and_the_draft_is_intact(draft, cast, amount, message):
    client = client_for(cast.applicant)
    before = lines_of(draft)
    response = add_line(client, draft, amount=amount, description="Försök")
    assert response.status_code == 303
    page = client.get(response["Location"].split("#")[0]).content.decode()
    assert message in field_error(page, "amount"), field_error(page, "amount")
    assert f'value="{html.escape(amount)}"' in page or amount == ""  # what was typed is shown back
    assert lines_of(draft) == before


@pytest.mark.parametrize("typed, stored", [("25000", "25000"), ("25 000", "25000"), (f"25{NBSP}000,50", "25000.50"),
                                           ("1 250,5 kr", "1250.50")])
def test_amounts_as_people_write_them(draft, cast, typed, stored):
    response = add_line(client_for(cast.applicant), draft, amount=typed, description="Tryck")
    assert response.status_code == 302
    assert draft.budget_lines.get(description="Tryck").amount == Decimal(stored)


def test_an_excluded_cost_type_of_scheme_b_is_refused_with_the_rule_named(cast, reference, stockholm):
    evaluation = reference["calls"]["utvardering"]
    application = demo.new_application(cast=cast, organisation=stockholm, call=evaluation, title="Utvärdering")
    client = client_for(cast.applicant)
    page = client.get(budget_step(application)).content.decode()
    assert re.search(r'<option value="travel_abroad">Resor utomlands – ingår inte i stödet</option>', page)
    before = lines_of(application)

    response = add_line(client, application, category="travel_abroad", description="Konferens i Wien")

    page = client.get(response["Location"].split("#")[0]).content.decode()
    assert "Resor utomlands ingår inte i Ekonomiskt stöd för utvärdering och uppföljning: Stödet får inte användas " \
           "till resor utomlands." in field_error(page, "category")
    assert 'value="Konferens i Wien"' in page
    assert lines_of(application) == before
    # Scheme A has no such rule: the same line is taken there.
    assert add_line(client, demo.new_application(cast=cast, organisation=stockholm, call=reference["calls"][
        "kommunala-atgarder"], title="A"), category="travel_abroad", description="Studiebesök").status_code == 302


def test_a_line_of_a_category_excluded_later_is_explained_next_to_it(cast, reference, stockholm):
    evaluation = reference["calls"]["utvardering"]
    application = demo.new_application(cast=cast, organisation=stockholm, call=evaluation, title="Utvärdering")
    line = application.budget_lines.first()
    BudgetLine.objects.filter(pk=line.pk).update(category="running")  # e.g. the rule was added afterwards
    page = client_for(cast.applicant).get(budget_step(application)).content.decode()
    problems = re.search(rf'<ul class="line-problems" id="line-{line.pk}-problems">(.*?)</ul>', page, re.S)
    assert problems and "Stödet får inte användas till löpande kostnader" in html.unescape(problems.group(1))
    assert any("Stödet får inte användas till löpande kostnader" in str(p)
               for p in submission_problems(Application.objects.get(pk=application.pk)))


@pytest.fixture
def two_year_draft(cast, call, stockholm):
    application = demo.new_application(cast=cast, organisation=stockholm, call=call, title="Två år", complete=False)
    Application.objects.filter(pk=application.pk).update(start_date=date(2027, 7, 1), end_date=date(2028, 6, 30))
    return Application.objects.get(pk=application.pk)


def test_a_project_over_two_years_puts_each_line_in_a_year_and_is_totalled_per_year(two_year_draft, cast):
    client = client_for(cast.applicant)
    page = client.get(budget_step(two_year_draft)).content.decode()
    assert re.search(r'<select name="year"[^>]*>.*<option value="2027">2027</option>.*<option value="2028">', page, re.S)

    response = add_line(client, two_year_draft, description="Utan år")
    page = client.get(response["Location"].split("#")[0]).content.decode()
    assert "Välj vilket år kostnaden gäller" in field_error(page, "year")
    response = add_line(client, two_year_draft, description="Fel år", year="2029")
    page = client.get(response["Location"].split("#")[0]).content.decode()
    assert field_error(page, "year")
    assert not two_year_draft.budget_lines.exists()

    for year, amount in [(2027, "100000"), (2027, "50000,50"), (2028, "75000")]:
        assert add_line(client, two_year_draft, year=str(year), amount=amount, description=f"Kostnad {year}").status_code == 302
    page = client.get(budget_step(two_year_draft)).content.decode()
    assert re.search(rf"Summa 2027</th>\s*<td class=\"num\">150{NBSP}000,50{NBSP}kr", page)
    assert re.search(rf"Summa 2028</th>\s*<td class=\"num\">75{NBSP}000{NBSP}kr", page)
    assert re.search(rf'<td class="num total">225{NBSP}000,50{NBSP}kr', page)
    summary = client.get(reverse("bidrag:application_step", args=[two_year_draft.pk, "sammanfattning"])).content.decode()
    assert "Summa 2027" in summary and "Summa 2028" in summary


def test_lines_without_a_year_are_explained_once_the_project_spans_two_years(draft, cast):
    line = draft.budget_lines.first()
    Application.objects.filter(pk=draft.pk).update(start_date=date(2027, 9, 1), end_date=date(2028, 8, 31))
    page = client_for(cast.applicant).get(budget_step(draft)).content.decode()
    problems = re.search(rf'<ul class="line-problems" id="line-{line.pk}-problems">(.*?)</ul>', page, re.S)
    assert problems and "Ange vilket år kostnaden gäller: projektet pågår 2027–2028" in html.unescape(problems.group(1))
    # Changing the line to give it a year mends it.
    response = client_for(cast.applicant).post(reverse("bidrag:budget_line_edit", args=[draft.pk, line.pk]), {
        "category": line.category, "description": line.description, "amount": str(line.amount), "year": "2028"})
    assert response.status_code == 302
    assert BudgetLine.objects.get(pk=line.pk).year == 2028


def test_the_ceiling_is_explained_at_the_total_and_in_the_checklist(draft, cast):
    client = client_for(cast.applicant)
    assert add_line(client, draft, amount="150000", description="Mer personal").status_code == 302  # kept, not lost
    page = client.get(budget_step(draft)).content.decode()
    total = re.search(r'<p class="line-problems" id="total-problem">(.*?)</p>', page, re.S)
    assert total and f"Över taket på 400{NBSP}000{NBSP}kr" in html.unescape(total.group(1))
    assert f"Sökt belopp 450{NBSP}000{NBSP}kr överstiger inriktningens tak på 400{NBSP}000{NBSP}kr." in [
        str(p) for p in submission_problems(Application.objects.get(pk=draft.pk))]
    response = client.post(budget_step(draft), {"action": "continue"})
    assert response.status_code == 400
    assert "överstiger inriktningens tak" in html.unescape(response.content.decode())


def test_the_budget_step_goes_on_when_the_budget_keeps_the_rules(draft, cast):
    response = client_for(cast.applicant).post(budget_step(draft), {"action": "continue"})
    assert response.status_code == 302
    assert response["Location"] == reverse("bidrag:application_step", args=[draft.pk, "bilagor"])


@pytest.mark.parametrize(("language", "typed", "amount"), [
    ("sv", "25 000,50", "25000.50"), ("sv", "25000", "25000"),
    ("en", "25,000.50", "25000.50"), ("en", "SEK 25,000", "25000"), ("en", "25000", "25000"),
])
def test_an_amount_reads_as_its_language_writes_it(language, typed, amount):
    from decimal import Decimal

    from django.utils import translation

    from bidrag.forms import SekAmountField

    with translation.override(language):
        assert SekAmountField().clean(typed) == Decimal(amount)


def test_a_swedish_comma_with_three_decimals_is_refused_not_read_as_kronor():
    from django.core.exceptions import ValidationError
    from django.utils import translation

    from bidrag.forms import SekAmountField

    with translation.override("sv"), pytest.raises(ValidationError):
        SekAmountField().clean("25,000")  # not 25 kr without a word


def test_the_case_page_totals_a_two_year_budget_per_year(make_application, cast, client):
    application = make_application(to=Status.SUBMITTED)
    lines = list(application.budget_lines.order_by("-amount"))
    BudgetLine.objects.filter(pk=lines[0].pk).update(year=2027)
    BudgetLine.objects.filter(pk=lines[1].pk).update(year=2028)
    client.force_login(cast.officer)
    page = client.get(reverse("workflows:case_detail", args=[application.pk])).content.decode()
    assert "Summa 2027" in page and "Summa 2028" in page
    client.force_login(cast.applicant)
    page = client.get(reverse("workflows:application_detail", args=[application.pk])).content.decode()
    assert "Summa 2027" in page and "Summa 2028" in page
