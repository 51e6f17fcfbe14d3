"""Issue 6: the new-application form chooses nothing for the person (no first organisation
of the list), offers only open calls, and takes the call from the public call page's link."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from bidrag.models import Application, Call, Membership

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def options(html: str, name: str) -> list[tuple[str, str, bool]]:
    """(value, label, selected) of each option of the select named `name`."""
    select = re.search(rf'<select name="{name}".*?</select>', html, re.S).group()
    return [
        (value, label.strip(), " selected" in attrs)
        for attrs, value, label in re.findall(r'<option((?:[^>]*?)value="([^"]*)"[^>]*)>(.*?)</option>', select, re.S)
    ]


def selected(html: str, name: str) -> list[str]:
    return [value for value, _label, is_selected in options(html, name) if is_selected]


@pytest.fixture
def two_organisations(cast, stockholm, malmo):
    for organisation in (stockholm, malmo):
        Membership.objects.create(organisation=organisation, user=cast.applicant, role=Membership.Role.APPLICANT)
    return cast.applicant


def closed_call(call) -> Call:
    now = timezone.now()
    return Call.objects.create(
        scheme=call.scheme, title="Förra årets utlysning", opens_at=now - timedelta(days=400),
        closes_at=now - timedelta(days=30), budget=call.budget,
    )


def upcoming_call(call) -> Call:
    now = timezone.now()
    return Call.objects.create(
        scheme=call.scheme, title="Nästa års utlysning", opens_at=now + timedelta(days=30),
        closes_at=now + timedelta(days=120), budget=call.budget,
    )


def test_no_organisation_is_chosen_for_someone_who_represents_several(two_organisations, call):
    html = client_for(two_organisations).get(reverse("bidrag:application_create")).content.decode()
    assert options(html, "organisation")[0][:2] == ("", "Välj organisation")
    assert selected(html, "organisation") in ([], [""])


def test_creating_without_choosing_an_organisation_is_refused_at_the_field(two_organisations, call):
    response = client_for(two_organisations).post(
        reverse("bidrag:application_create"), {"organisation": "", "call": call.pk, "title": "Trygga parker"}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert re.search(r'id="id_organisation_error">.*Välj vilken organisation som söker', html, re.S)
    assert "Trygga parker" in html
    assert not Application.objects.filter(title="Trygga parker").exists()


def test_the_one_organisation_someone_represents_is_chosen(cast, stockholm, call):
    Membership.objects.create(organisation=stockholm, user=cast.applicant, role=Membership.Role.APPLICANT)
    html = client_for(cast.applicant).get(reverse("bidrag:application_create")).content.decode()
    assert selected(html, "organisation") == [str(stockholm.pk)]


def test_the_call_page_link_chooses_the_call(two_organisations, reference):
    evaluation = reference["calls"]["utvardering"]
    url = reverse("bidrag:application_create") + f"?utlysning={evaluation.pk}"
    html = client_for(two_organisations).get(url).content.decode()
    assert selected(html, "call") == [str(evaluation.pk)]
    assert selected(html, "organisation") in ([], [""])


def test_without_a_link_no_call_is_chosen_among_several(two_organisations, reference):
    html = client_for(two_organisations).get(reverse("bidrag:application_create")).content.decode()
    assert options(html, "call")[0][:2] == ("", "Välj utlysning")
    assert selected(html, "call") in ([], [""])


def test_only_open_calls_are_offered(two_organisations, call):
    closed, upcoming = closed_call(call), upcoming_call(call)
    html = client_for(two_organisations).get(reverse("bidrag:application_create")).content.decode()
    offered = {value for value, _label, _selected in options(html, "call")}
    assert str(call.pk) in offered
    assert str(closed.pk) not in offered and str(upcoming.pk) not in offered


@pytest.mark.parametrize("which", ["closed", "upcoming", "garbage"])
def test_a_link_to_a_call_that_is_not_open_chooses_nothing_and_says_so(two_organisations, call, which):
    target = {"closed": lambda: closed_call(call).pk, "upcoming": lambda: upcoming_call(call).pk,
              "garbage": lambda: "inte-ett-id"}[which]()
    response = client_for(two_organisations).get(reverse("bidrag:application_create") + f"?utlysning={target}")
    assert response.status_code == 200
    html = response.content.decode()
    assert str(target) not in {value for value, _label, _selected in options(html, "call")}
    assert "inte öppen för ansökningar" in html


def test_a_closed_call_posted_by_hand_is_refused(two_organisations, stockholm, call):
    closed = closed_call(call)
    response = client_for(two_organisations).post(
        reverse("bidrag:application_create"), {"organisation": stockholm.pk, "call": closed.pk, "title": "Sent"}
    )
    assert response.status_code == 400
    assert re.search(r'id="id_call_error">.*inte öppen för ansökningar', response.content.decode(), re.S)
    assert not Application.objects.filter(title="Sent").exists()
