"""Selectors scoped to the acting user: a foreign object answers exactly like a missing one."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from bidrag.models import Membership
from bidrag.models.application import Status

pytestmark = pytest.mark.django_db

MISSING = "00000000-0000-4000-8000-000000000000"


def without_csrf(response) -> str:
    """The page without what differs by request alone: its CSRF token and the requested id
    (echoed in the language switch's return path), so two answers can be compared."""
    page = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())
    return re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "ID", page)


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def outsider(cast, malmo):
    user = type(cast.applicant).objects.create_user("utomstaende", email="u@malmo.se")
    Membership.objects.create(organisation=malmo, user=user, role=Membership.Role.SIGNATORY)
    return user


APPLICANT_URLS = [
    ("workflows:application_detail", "get", {}),
    ("workflows:submit", "post", {"idempotency_key": "x"}),
    ("workflows:withdraw", "post", {"confirm": "on"}),
    ("bidrag:application_edit", "get", {}),
    ("bidrag:budget_line_add", "post", {"category": "staff", "description": "x", "amount": "1"}),
]


@pytest.mark.parametrize("name, method, data", APPLICANT_URLS)
def test_foreign_application_answers_like_a_missing_one(draft, outsider, name, method, data):
    client = client_for(outsider)
    foreign = getattr(client, method)(reverse(name, args=[draft.pk]), data)
    missing = getattr(client, method)(reverse(name, args=[MISSING]), data)
    assert foreign.status_code == missing.status_code == 404
    assert without_csrf(foreign) == without_csrf(missing)
    draft.refresh_from_db()
    assert draft.status == Status.DRAFT


def test_applicant_cannot_reach_case_pages_or_queues(make_application, cast):
    application = make_application(to=Status.IN_REVIEW)
    client = client_for(cast.signatory)
    assert client.get(reverse("workflows:case_detail", args=[application.pk])).status_code == 404
    assert client.get(reverse("workflows:queue")).status_code == 404
    response = client.post(reverse("workflows:task_action", args=[application.pk, "review", "start_assessment"]))
    assert response.status_code == 404
    application.refresh_from_db()
    assert application.status == Status.IN_REVIEW


def test_staff_do_not_see_drafts(draft, cast):
    assert client_for(cast.officer).get(reverse("workflows:case_detail", args=[draft.pk])).status_code == 404


def test_auditor_reads_but_cannot_act(make_application, cast):
    application = make_application(to=Status.DECISION_PROPOSED)
    client = client_for(cast.auditor)
    page = client.get(reverse("workflows:case_detail", args=[application.pk]))
    assert page.status_code == 200
    assert application.case.diarienummer in page.content.decode()
    response = client.post(reverse("workflows:task_action", args=[application.pk, "decide", "decide"]))
    assert response.status_code == 403
    application.refresh_from_db()
    assert application.status == Status.DECISION_PROPOSED


def test_urls_carry_uuids_not_sequential_ids(make_application, cast):
    make_application(to=Status.SUBMITTED)
    page = client_for(cast.registrar).get(reverse("workflows:queue")).content.decode()
    links = re.findall(r'href="(/[^"]*)"', page)
    case_links = [link for link in links if link.startswith("/arenden/") and link != reverse("workflows:case_list")]
    assert case_links, "the queue links to the case"
    for link in case_links:
        assert re.match(r"^/arenden/[0-9a-f-]{36}/", link), link


def test_login_required_everywhere(draft):
    client = Client()
    for url in [reverse("workflows:queue"), reverse("bidrag:application_list"), reverse("workflows:application_detail", args=[draft.pk])]:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_security_headers(cast):
    response = client_for(cast.applicant).get(reverse("bidrag:application_list"))
    assert response.status_code == 200
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_csrf_is_enforced(draft, cast):
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.signatory)
    response = client.post(reverse("workflows:submit", args=[draft.pk]), {"idempotency_key": "x"})
    assert response.status_code == 403
    draft.refresh_from_db()
    assert draft.status == Status.DRAFT


def test_auditor_lands_on_the_decision_log_and_finds_a_case_among_all(make_application, cast):
    application = make_application(to=Status.REJECTED)
    client = client_for(cast.auditor)
    response = client.get(reverse("workflows:queue"))  # no queue of their own: the decision log (issue 9)
    assert response.status_code == 302 and response["Location"] == reverse("workflows:decision_log")
    page = client.get(reverse("workflows:case_list"), {"q": application.case.diarienummer, "status": "rejected"})
    assert page.status_code == 200
    assert application.case.diarienummer in page.content.decode()
    assert client_for(cast.signatory).get(reverse("workflows:case_list")).status_code == 404


def test_claim_is_offered_only_to_the_tasks_queue(make_application, cast):
    application = make_application(to=Status.SUBMITTED)
    url = reverse("workflows:case_detail", args=[application.pk])
    claim = reverse("workflows:task_claim", args=[application.pk, "register"])
    assert claim in client_for(cast.registrar).get(url).content.decode()
    assert claim not in client_for(cast.officer).get(url).content.decode()


def test_case_page_shows_who_prepared_attested_and_paid(make_application, cast):
    application = make_application(to=Status.IN_PROGRESS)
    page = client_for(cast.auditor).get(reverse("workflows:case_detail", args=[application.pk])).content.decode()
    table = page[page.index('id="disbursements-caption"') :]
    table = table[: table.index("</table>")]  # the journal names everyone too: look only here
    for user in (cast.officer, cast.finance, cast.finance2):
        assert user.get_full_name() in table
