"""Issue 6: every applicant URL tried with another organisation's ids answers exactly like a
missing id. Generated from the URL configuration: each route with an id in it, opened (GET
and POST) by a member of another organisation with the other organisation's real object,
and with an id that exists nowhere; both answers must be 404 and nothing may change.

A new route with an id parameter this test cannot fill fails it: say below which object the
parameter names.
"""

import uuid
from datetime import timedelta

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from arenden.models import Attachment, JournalEvent
from bidrag.models import Application, Decision, Membership
from bidrag.models.application import Status
from bidrag.models.mandates import Invitation, JoinRequest
from notifications.models import Notice

pytestmark = pytest.mark.django_db

# Parameters that name an object, and how to find the foreign organisation's one.
OBJECTS = {
    "application_id": lambda world: world["application"].pk,
    "attachment_id": lambda world: world["attachment"].pk,
    "line_id": lambda world: world["line"].pk,
    "organisation_id": lambda world: world["organisation"].pk,
    "request_id": lambda world: world["join_request"].pk,
    "join_request_id": lambda world: world["join_request"].pk,
    "membership_key": lambda world: world["membership"].key,
    "invitation_id": lambda world: world["invitation"].pk,
    "decision_id": lambda world: world["decision"].pk,
    "notice_id": lambda world: world["notice"].pk,
}
# Other parameters, filled with a valid value so only the id decides.
VALUES = {"slug": "projekt", "node": "await_supplement", "action": "receive_supplement", "token": "x" * 43}
# Routes whose ids are not the applicant's objects (staff pages are covered by
# tests/security/test_visibility.py and the policy matrix; public calls are public).
NOT_APPLICANT = {"workflows:case_detail", "workflows:declare_conflict", "workflows:rule_conflict",
                 "workflows:task_claim", "workflows:mandate_decide", "public:call_detail", "bidrag:invitation_accept",
                 "workflows:ranking", "workflows:ranking_decide",
                 # a production of allmänna handlingar: staff, tests/arenden/test_production.py
                 "workflows:production_detail", "workflows:production_download",
                 # appeals and the FL 11/12 § clocks on the case page: staff, tests/workflows/test_appeals.py
                 # and test_decision_clocks.py
                 "workflows:appeal_register", "workflows:appeal_forward", "workflows:appeal_dismiss",
                 # the översändelse to the court: staff, tests/workflows/test_fl45_appeal_forwarding.py
                 "workflows:appeal_letter",
                 "workflows:demand_refuse", "workflows:delay_notice", "workflows:decision_correct",
                 # the decision log's exports (a file format, no object): staff, tests/workflows/test_decision_log.py
                 "workflows:decision_log_export", "workflows:disbursement_export",
                 # a background export's page and file: its maker only, tests/workflows/test_export_jobs.py
                 "workflows:export_job", "workflows:export_job_download"}  # a call's ranking: staff, tests/workflows/test_assessment_ranking.py
# A route that takes only one method answers 405 to the other, for a foreign and a missing id
# alike: that says nothing about the id. Each route must answer 404 to at least one method.
SAME = {404, 405}


def routes(resolver=None, namespace=""):
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            yield from routes(entry, f"{namespace}{entry.namespace}:" if entry.namespace else namespace)
        elif isinstance(entry, URLPattern) and entry.name and entry.pattern.converters:
            name = f"{namespace}{entry.name}"
            if name not in NOT_APPLICANT and not name.startswith("admin:"):
                yield name, sorted(entry.pattern.converters)


ROUTES = sorted({(name, tuple(params)) for name, params in routes()})


@pytest.fixture
def world(make_application, malmo, cast):
    """Malmö's application with a budget line and an attachment, and a stranger who represents
    another organisation only."""
    application = make_application(to=Status.AWAITING_SUPPLEMENT, organisation=malmo, title="Malmös egen")
    stranger = type(cast.applicant).objects.create_user("annan", first_name="Anna", last_name="Annan")
    other = type(malmo).objects.exclude(pk=malmo.pk).exclude(memberships__user__in=[cast.applicant]).first()
    Membership.objects.create(organisation=other, user=stranger, role=Membership.Role.SIGNATORY)
    asker = type(cast.applicant).objects.create_user("fragande")
    return {
        "join_request": JoinRequest.objects.create(organisation=malmo, user=asker),
        "invitation": Invitation.objects.create(
            organisation=malmo, email="ny@malmo.example.se", role=Membership.Role.APPLICANT, token_hash="0" * 64,
            invited_by=cast.signatory, expires_at=timezone.now() + timedelta(days=7)),
        "membership": Membership.objects.get(organisation=malmo, user=cast.applicant),
        "application": application,
        "attachment": Attachment.objects.filter(case=application.case_id).first(),
        "line": application.budget_lines.first(),
        # A decision row of Malmö's application (its letter's id); the flow is not needed here.
        "decision": Decision.objects.create(
            application=application, outcome=Decision.Outcome.REJECTED, reasons="Skäl.",
            decided_by=cast.decision_maker, presented_by=cast.officer, decided_at=timezone.now()),
        "organisation": malmo,
        # A notice of a Malmö member (to the person, not the organisation: the stranger is not them).
        "notice": Notice.objects.create(user=cast.applicant, kind="payment", reference=f"application:{application.pk}",
                                        subject="Utbetalning", body="Text"),
        "stranger": stranger,
    }


def _kwargs(params, world, *, missing: bool):
    kwargs = {}
    for param in params:
        if param in OBJECTS:
            kwargs[param] = uuid.uuid4() if missing else OBJECTS[param](world)
        elif param in VALUES:
            kwargs[param] = VALUES[param]
        else:
            pytest.fail(f"no value for the URL parameter {param!r}: add it to OBJECTS or VALUES")
    return kwargs


def _state(world):
    application = Application.objects.get(pk=world["application"].pk)
    return (application.status, application.title, application.deleted_at,
            JournalEvent.objects.filter(case_id=application.case_id).count(),
            Attachment.objects.filter(case_id=application.case_id).count(),
            application.budget_lines.count())


def test_there_are_routes_to_try():
    assert len(ROUTES) >= 15, ROUTES


@pytest.mark.parametrize(("name", "params"), ROUTES, ids=[name for name, _ in ROUTES])
def test_another_organisations_id_answers_like_a_missing_one(client, world, name, params):
    client.force_login(world["stranger"])
    before = _state(world)
    seen = set()
    for method in ("get", "post"):
        answers = []
        for missing in (False, True):
            url = reverse(name, kwargs=_kwargs(params, world, missing=missing))
            response = getattr(client, method)(url)
            answers.append(response.status_code)
        foreign, absent = answers
        assert foreign == absent and foreign in SAME, f"{method.upper()} {name}: foreign {foreign}, missing {absent}"
        seen.add(foreign)
    assert 404 in seen, f"{name} answers no method with 404"
    assert _state(world) == before, f"{name}: a foreign request changed something"
