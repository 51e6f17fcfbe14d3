"""Issue 6: the draft as a form in steps per scheme (bidrag/steps.py): a navigator with each
step's state, validation per step on "Spara och fortsätt", "Spara" without it, what was
typed kept when a field fails, the old edit address leading to the first unfinished step,
tracks chosen at creation and changed in the draft, their ceilings and requirements."""

import html
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from bidrag.models import Application, Membership
from bidrag.services.applications import submission_problems
from bidrag.steps import SCHEME_A, SCHEME_B
from workflows import demo

pytestmark = pytest.mark.django_db

MISSING = "00000000-0000-4000-8000-000000000000"


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def step(application, slug) -> str:
    return reverse("bidrag:application_step", args=[application.pk, slug])


def field_error(page: str, field: str) -> str:
    found = re.search(rf'<ul class="field__errors" id="id_{field}_error">(.*?)</ul>', page, re.S)
    return html.unescape(re.sub(r"<[^>]+>", "", found.group(1))) if found else ""


def navigator(page: str) -> list[tuple[str, str]]:
    nav = re.search(r'<nav class="step-nav".*?</nav>', page, re.S).group()
    return [(html.unescape(title), state) for title, state in re.findall(
        r'<a href="[^"]+"[^>]*>([^<]+)</a>\s*(?:<span class="step-nav__state[^"]*">(\w+)</span>)?', nav)]


@pytest.fixture
def empty_draft(cast, call, stockholm):
    return demo.new_application(cast=cast, organisation=stockholm, call=call, title="Tomt utkast", complete=False)


def test_every_step_of_a_complete_draft_renders_and_is_done(draft, cast):
    client = client_for(cast.applicant)
    for each in SCHEME_A:
        response = client.get(step(draft, each.slug))
        assert response.status_code == 200, each.slug
        page = response.content.decode()
        assert "Utkast – inte en allmän handling förrän den skickas in" in page
        assert 'aria-current="step"' in page
    states = navigator(page)
    assert [title for title, _state in states] == [str(s.title) for s in SCHEME_A]
    assert all(state == "klar" for title, state in states if title != "Sammanfattning"), states


def test_the_old_edit_address_leads_to_the_first_unfinished_step(empty_draft, draft, cast):
    client = client_for(cast.applicant)
    assert client.get(reverse("bidrag:application_edit", args=[empty_draft.pk]))["Location"] == step(empty_draft, "projekt")
    assert client.get(reverse("bidrag:application_edit", args=[draft.pk]))["Location"] == step(draft, "sammanfattning")
    Application.objects.filter(pk=draft.pk).update(target_group="")
    assert client.get(reverse("bidrag:application_edit", args=[draft.pk]))["Location"] == step(draft, "malgrupp")


def test_the_navigator_tells_each_steps_state(empty_draft, cast):
    page = client_for(cast.applicant).get(step(empty_draft, "mal")).content.decode()
    states = dict(navigator(page))
    assert states["Projekt"] == "saknas" and states["Mål"] == "saknas" and states["Budget"] == "saknas"
    assert re.search(r'<a href="[^"]+/steg/mal/" aria-current="step">Mål</a>', page)


def test_continue_validates_the_step_saves_what_is_valid_and_shows_the_rest_back(empty_draft, cast):
    response = client_for(cast.applicant).post(
        step(empty_draft, "mal"), {"purpose": "Syftet är skrivet", "goals": "", "action": "continue"}
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "Mål måste fyllas i" in field_error(page, "goals")
    goals = re.search(r'<textarea name="goals"[^>]*>', page).group()
    assert 'aria-invalid="true"' in goals and 'aria-describedby="id_goals_helptext id_goals_error"' in goals
    assert "data-focus-on-load" in page  # the error summary takes the focus
    assert "Syftet är skrivet" in page
    assert Application.objects.get(pk=empty_draft.pk).purpose == "Syftet är skrivet"


def test_continue_goes_to_the_next_step_when_the_step_is_done(empty_draft, cast):
    response = client_for(cast.applicant).post(
        step(empty_draft, "mal"), {"purpose": "Syfte", "goals": "Mål", "action": "continue"}
    )
    assert response.status_code == 302 and response["Location"] == step(empty_draft, "malgrupp")


def test_save_keeps_going_without_validation_but_refuses_what_cannot_be_read(empty_draft, cast):
    client = client_for(cast.applicant)
    response = client.post(step(empty_draft, "mal"), {"purpose": "", "goals": "Bara mål", "action": "save"})
    assert response.status_code == 302 and response["Location"] == step(empty_draft, "mal")
    assert Application.objects.get(pk=empty_draft.pk).goals == "Bara mål"

    response = client.post(step(empty_draft, "projekt"), {
        "title": "Nytt namn", "track": empty_draft.track_id, "start_date": "inte ett datum", "end_date": "2027-12-31",
        "action": "save"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Skriv datumet som år-månad-dag" in field_error(page, "start_date")
    assert 'value="inte ett datum"' in page
    saved = Application.objects.get(pk=empty_draft.pk)
    assert saved.title == "Nytt namn" and saved.end_date.isoformat() == "2027-12-31" and saved.start_date is None


def test_overlong_and_empty_answers_are_told_at_the_field_and_the_draft_is_intact(draft, cast):
    before = Application.objects.get(pk=draft.pk)
    response = client_for(cast.applicant).post(
        step(draft, "metod"), {"method": "x" * 10_001, "action": "save"}
    )
    assert response.status_code == 400
    assert "Texten är för lång: högst 10000 tecken" in field_error(response.content.decode(), "method")
    assert Application.objects.get(pk=draft.pk).method == before.method
    response = client_for(cast.applicant).post(step(draft, "projekt"), {
        "title": "  ", "track": before.track_id, "start_date": "2027-01-01", "end_date": "2027-06-30",
        "action": "continue"})
    assert response.status_code == 400
    assert "Projektets namn måste fyllas i" in field_error(response.content.decode(), "title")
    assert Application.objects.get(pk=draft.pk).title == before.title


def test_the_declarations_are_a_group_of_required_checkboxes(empty_draft, cast):
    client = client_for(cast.applicant)
    page = client.get(step(empty_draft, "forsakringar")).content.decode()
    assert re.search(r'<fieldset class="field field--group[^"]*"[^>]*>\s*<legend class="field__label">Vi försäkrar att', page)
    assert page.count('type="checkbox" name="declarations"') == 3
    assert "lag (2023:196)" in page

    response = client.post(step(empty_draft, "forsakringar"),
                           {"declarations": ["declares_not_existing_activity"], "action": "continue"})
    assert response.status_code == 400
    assert "Kryssa i alla försäkringar" in field_error(response.content.decode(), "declarations")
    saved = Application.objects.get(pk=empty_draft.pk)
    assert saved.declares_not_existing_activity and not saved.declares_not_statutory_duty

    response = client.post(step(empty_draft, "forsakringar"), {"declarations": [
        "declares_not_existing_activity", "declares_not_statutory_duty", "declares_no_other_state_grant"],
        "action": "continue"})
    assert response.status_code == 302
    assert Application.objects.get(pk=empty_draft.pk).declares_no_other_state_grant


def test_other_state_grants_need_purpose_and_amount_when_there_are_any(empty_draft, cast):
    client = client_for(cast.applicant)
    response = client.post(step(empty_draft, "andra-bidrag"), {"other_state_grants_any": "yes", "action": "continue"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Ange syftet" in field_error(page, "other_state_grants")
    assert "Ange beloppet" in field_error(page, "other_state_grants_amount")
    response = client.post(step(empty_draft, "andra-bidrag"), {
        "other_state_grants_any": "yes", "other_state_grants": "Länsstyrelsen, samordnare",
        "other_state_grants_amount": "50 000", "action": "continue"})
    assert response.status_code == 302
    saved = Application.objects.get(pk=empty_draft.pk)
    assert saved.other_state_grants_any is True and saved.other_state_grants_amount == Decimal("50000")


def test_the_summary_shows_every_answer_with_a_change_link_per_step_and_the_checklist(draft, cast):
    page = client_for(cast.applicant).get(step(draft, "sammanfattning")).content.decode()
    for each in SCHEME_A:
        if each.slug != "sammanfattning":
            assert f'href="{step(draft, each.slug)}">Ändra' in page, each.slug
    saved = Application.objects.get(pk=draft.pk)
    for text in (saved.need, saved.goals, saved.target_group, saved.method, saved.plan):
        assert html.escape(text) in page
    assert '<section id="skicka-in"' in page and "Allt som krävs är ifyllt" in page


def test_a_scheme_b_draft_has_its_own_steps(cast, reference, stockholm):
    evaluation = reference["calls"]["utvardering"]
    application = demo.new_application(cast=cast, organisation=stockholm, call=evaluation, title="Utvärdering")
    page = client_for(cast.applicant).get(step(application, "forsakringar")).content.decode()
    assert [t for t, _s in navigator(page)] == [str(s.title) for s in SCHEME_B]
    assert "resor utomlands" in page and "2023:196" not in page
    samverkan = client_for(cast.applicant).get(step(application, "samverkan")).content.decode()
    assert 'name="evaluator"' in samverkan and 'name="evaluator_has_phd"' in samverkan
    assert submission_problems(Application.objects.get(pk=application.pk)) == []


# -- tracks ----------------------------------------------------------------------------------


def test_a_call_with_tracks_asks_for_one_when_the_draft_is_created(cast, call, stockholm):
    Membership.objects.create(organisation=stockholm, user=cast.applicant, role=Membership.Role.APPLICANT)
    client = client_for(cast.applicant)
    form = client.get(reverse("bidrag:application_create")).content.decode()
    assert re.search(r'<select name="track"[^>]*>.*<optgroup label="Brottsförebyggande åtgärder', form, re.S)
    response = client.post(reverse("bidrag:application_create"),
                           {"organisation": stockholm.pk, "call": call.pk, "title": "Utan inriktning"})
    assert response.status_code == 400
    assert "Välj vilken inriktning" in field_error(response.content.decode(), "track")

    other_call_track = demo.reference_data_ensure()["calls"]["utvardering"].tracks.first()
    response = client.post(reverse("bidrag:application_create"), {
        "organisation": stockholm.pk, "call": call.pk, "track": other_call_track.pk, "title": "Fel inriktning"})
    assert response.status_code == 400
    assert "annan utlysning" in field_error(response.content.decode(), "track")

    knowledge = call.tracks.get(name="Kunskapsbaserade åtgärder")
    response = client.post(reverse("bidrag:application_create"), {
        "organisation": stockholm.pk, "call": call.pk, "track": knowledge.pk, "title": "Med inriktning"})
    assert response.status_code == 302
    assert Application.objects.get(title="Med inriktning").track == knowledge


def test_the_ceiling_is_the_tracks_and_the_track_can_be_changed_in_the_draft(cast, call, stockholm):
    application = demo.new_application(cast=cast, organisation=stockholm, call=call, title="Stort", complete=False)
    demo.complete_draft(application=application, actor=cast.applicant, amount=Decimal("900000"))
    application = Application.objects.get(pk=application.pk)
    assert application.track.ceiling == Decimal("400000")
    assert any("överstiger inriktningens tak på 400" in str(p) for p in submission_problems(application))

    knowledge = call.tracks.get(name="Kunskapsbaserade åtgärder")
    response = client_for(cast.applicant).post(step(application, "projekt"), {
        "title": application.title, "track": knowledge.pk, "start_date": application.start_date.isoformat(),
        "end_date": application.end_date.isoformat(), "action": "continue"})
    assert response.status_code == 302
    application = Application.objects.get(pk=application.pk)
    assert application.track == knowledge and application.ceiling() is None
    assert submission_problems(application) == []  # no ceiling for kunskapsbaserade åtgärder


def test_a_call_without_tracks_falls_back_to_the_schemes_ceiling(cast, call, stockholm):
    application = demo.new_application(cast=cast, organisation=stockholm, call=call, title="Utan spår", complete=False)
    Application.objects.filter(pk=application.pk).update(track=None)
    call.tracks.all().delete()
    application = Application.objects.get(pk=application.pk)
    assert application.ceiling() == call.scheme.ceiling == Decimal("400000")


def test_the_phd_track_needs_the_evaluators_statement_and_certificate(cast, reference, stockholm):
    evaluation = reference["calls"]["utvardering"]
    scheme = evaluation.scheme
    scheme.required_attachments = []  # only the track asks for the certificate here
    scheme.save(update_fields=["required_attachments"])
    phd = evaluation.tracks.get(requires_evaluator_phd=True)
    application = demo.new_application(cast=cast, organisation=stockholm, call=evaluation, title="Disputerad",
                                       complete=False)
    assert application.track != phd
    demo.complete_draft(application=application, actor=cast.applicant, amount=Decimal("700000"))
    assert any("överstiger inriktningens tak på 400" in str(p)
               for p in submission_problems(Application.objects.get(pk=application.pk)))

    client = client_for(cast.applicant)
    saved = Application.objects.get(pk=application.pk)
    client.post(step(application, "projekt"), {"title": saved.title, "track": phd.pk, "action": "save",
                                               "start_date": saved.start_date.isoformat(),
                                               "end_date": saved.end_date.isoformat()})
    Application.objects.filter(pk=application.pk).update(evaluator_has_phd=False)
    problems = [str(p) for p in submission_problems(Application.objects.get(pk=application.pk))]
    assert any("kräver att utvärderaren har doktorsexamen" in p for p in problems)
    assert "Bilaga saknas: Intyg om utvärderarens kompetens." in problems
    assert not any("överstiger" in p for p in problems)  # 700 000 is within 750 000

    response = client.post(step(application, "samverkan"), {"evaluator": "Dr. Eva", "action": "continue"})
    assert response.status_code == 400
    assert "kräver att utvärderaren har doktorsexamen" in field_error(response.content.decode(), "evaluator_has_phd")
    client.post(step(application, "samverkan"), {"evaluator": "Dr. Eva", "evaluator_has_phd": "on", "action": "continue"})
    problems = [str(p) for p in submission_problems(Application.objects.get(pk=application.pk))]
    assert problems == ["Bilaga saknas: Intyg om utvärderarens kompetens."]


def test_another_organisations_step_answers_like_a_missing_one(draft, cast, malmo):
    outsider = type(cast.applicant).objects.create_user("utomstaende", email="u@malmo.se")
    Membership.objects.create(organisation=malmo, user=outsider, role=Membership.Role.SIGNATORY)
    client = client_for(outsider)
    for slug in ("projekt", "budget", "sammanfattning"):
        foreign = client.get(step(draft, slug))
        missing = client.get(reverse("bidrag:application_step", args=[MISSING, slug]))
        assert foreign.status_code == missing.status_code == 404
    assert client_for(cast.applicant).get(step(draft, "finns-inte")).status_code == 404


# -- a constant number of queries ------------------------------------------------------------


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_every_step_renders_with_the_same_queries_whatever_the_number_of_budget_lines(draft, cast):
    from bidrag import services

    client = client_for(cast.applicant)
    client.get(step(draft, "projekt"))  # the session and caches settle
    one_line = draft.budget_lines.order_by("amount").first()
    draft.budget_lines.exclude(pk=one_line.pk).delete()
    few = {each.slug: _queries(client, step(draft, each.slug)) for each in SCHEME_A}
    for i in range(39):
        services.budget_line_add(actor=cast.applicant, application=draft, category="material",
                                 description=f"Material {i}", amount=Decimal("100"))
    assert draft.budget_lines.count() == 40
    many = {each.slug: _queries(client, step(draft, each.slug)) for each in SCHEME_A}
    assert many == few
    assert min(many.values()) > 0 and max(many.values()) <= 25, many
