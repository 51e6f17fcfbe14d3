"""Issue 6, public pages: what can be applied for, without logging in.

The start page lists open calls (scheme, tracks, deadline, ceiling, who may apply, what to
attach, how applications are assessed), upcoming and closed calls marked as such, and the
granted projects of closed calls; a page per call adds the guidance and a way to apply.
"""

import re
import uuid
from datetime import timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlparse

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from arenden import formatting
from bidrag.models import Application, Call, CallTrack, Organisation
from bidrag.models.application import Status
from bidrag.services.letters import letter_issue
from workflows.queue_entries import queue_sync

pytestmark = pytest.mark.django_db

NBSP = "\u00a0"


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def section(body: str, heading_id: str) -> str:
    """The part of the page inside the <section> labelled by `heading_id`."""
    match = re.search(rf'<section[^>]*aria-labelledby="{heading_id}".*?</section>', body, re.S)
    assert match, f"no section labelled {heading_id}"
    return match.group(0)


def close(call: Call) -> Call:
    """The call as if its round were over."""
    call.opens_at = timezone.now() - timedelta(days=200)
    call.closes_at = timezone.now() - timedelta(days=100)
    call.save(update_fields=["opens_at", "closes_at"])
    return call


def sent(application: Application) -> Application:
    """Its decisions' letters stored: what a grant needs before it is public
    (bidrag.selectors.published_grants)."""
    for decision in application.decisions.all():
        letter_issue(decision_id=decision.pk)
    return application


def municipalities(n: int) -> list[Organisation]:
    return list(Organisation.objects.filter(orgnr__startswith="2").order_by("kommunkod")[:n])


# --- the start page -------------------------------------------------------------------


def test_anonymous_visitor_gets_the_start_page_not_the_login_form(client, call):
    response = client.get("/")
    assert response.status_code == 200
    body = response.content.decode()
    open_calls = section(body, "open-calls-heading")
    assert call.title in open_calls
    assert call.scheme.name in open_calls
    # The deadline in Stockholm time, written the Swedish way.
    assert formatting.moment(call.closes_at) in open_calls
    assert "kl. 23.59" in open_calls
    # Tracks with their ceilings; a track without one says so.
    assert "Stärka lokalt brottsförebyggande arbete" in open_calls
    assert "Kunskapsbaserade åtgärder" in open_calls
    assert f"400{NBSP}000{NBSP}kr" in open_calls
    assert "Inget beloppstak" in open_calls
    # Who may apply (legal form labels), what to attach (attachment labels), criteria.
    assert "Stat, region eller kommun" in open_calls
    assert "Lägesbild" in open_calls and "Åtgärdsplan" in open_calls and "Bevis om behörig företrädare" in open_calls
    assert "Relevans" in open_calls and "Genomförbarhet" in open_calls and "Bärkraft och långsiktighet" in open_calls
    # The call has its own page.
    assert reverse("public:call_detail", args=[call.pk]) in open_calls


def test_both_schemes_are_listed_with_their_own_facts(client, reference):
    body = section(client.get("/").content.decode(), "open-calls-heading")
    evaluation = reference["calls"]["utvardering"]
    assert evaluation.title in body
    assert f"750{NBSP}000{NBSP}kr" in body
    assert "Ideell förening eller stiftelse" in body
    assert "Intyg om utvärderarens kompetens" in body


def test_the_header_offers_login_to_anonymous_visitors_only(client, cast, call):
    body = client.get("/").content.decode()
    header = body.split("</header>")[0]
    assert f'href="{reverse("login")}"' in header and "Logga in" in header
    logged_in = client_for(cast.applicant).get(reverse("public:call_detail", args=[call.pk])).content.decode()
    header = logged_in.split("</header>")[0]
    assert "Logga in" not in header and "Logga ut" in header


def test_logged_in_users_are_still_sent_to_their_own_start(cast, reference):
    applicant = client_for(cast.applicant).get("/")
    assert applicant.status_code == 302 and applicant["Location"] == reverse("bidrag:application_list")
    officer = client_for(cast.officer).get("/")
    assert officer.status_code == 302 and officer["Location"] == reverse("workflows:queue")


def test_upcoming_and_closed_calls_are_shown_and_marked(client, call):
    now = timezone.now()
    upcoming = Call.objects.create(scheme=call.scheme, title="Kommande omgång", opens_at=now + timedelta(days=10),
                                   closes_at=now + timedelta(days=60), budget=Decimal("1000000"))
    closed = Call.objects.create(scheme=call.scheme, title="Förra omgången", opens_at=now - timedelta(days=400),
                                 closes_at=now - timedelta(days=300), budget=Decimal("1000000"))
    body = client.get("/").content.decode()
    open_part = section(body, "open-calls-heading")
    upcoming_part = section(body, "upcoming-calls-heading")
    closed_part = section(body, "closed-calls-heading")
    assert call.title in open_part and upcoming.title not in open_part and closed.title not in open_part
    assert upcoming.title in upcoming_part and "Kommande" in upcoming_part
    assert formatting.moment(upcoming.opens_at) in upcoming_part
    assert closed.title in closed_part and "Stängd" in closed_part
    # Marked in text as well as by section: each card says its state.
    assert "Öppen" in open_part


def test_granted_projects_of_closed_calls_are_listed_and_nothing_else(client, make_application):
    stockholm, goteborg, malmo, uppsala, other, sixth, seventh = municipalities(7)
    granted = sent(make_application(to=Status.GRANTED, organisation=stockholm, title="Beviljat projekt"))
    running = sent(make_application(to=Status.IN_PROGRESS, organisation=goteborg, title="Pågående projekt"))
    # Closed after its report: taken there by hand (the report path is tested in tests/workflows).
    finished = sent(make_application(to=Status.IN_PROGRESS, organisation=seventh, title="Avslutat projekt"))
    Application.objects.filter(pk=finished.pk).update(status=Status.CLOSED)
    queue_sync(finished.pk)
    make_application(to=Status.REJECTED, organisation=malmo, title="Avslaget projekt")
    make_application(to=Status.DECISION_PROPOSED, organisation=uppsala, title="Föreslaget projekt")
    make_application(to=Status.DRAFT, organisation=other, title="Hemligt utkast")
    make_application(to=Status.WITHDRAWN, organisation=sixth, title="Återkallat projekt")

    # While the call is open nothing is listed as granted.
    assert "Beviljat projekt" not in client.get("/").content.decode()

    close(granted.call)
    body = client.get("/").content.decode()
    closed_part = section(body, "closed-calls-heading")
    table = re.search(r"<table.*?</table>", closed_part, re.S).group(0)
    assert "<caption" in table and 'scope="col"' in table
    for application in (granted, running, finished):
        assert application.title in table
        assert application.organisation.name in table
    assert f"250{NBSP}000{NBSP}kr" in table  # the granted amount, not the 300 000 applied for
    assert f"300{NBSP}000{NBSP}kr" not in table
    for title in ("Avslaget projekt", "Föreslaget projekt", "Hemligt utkast", "Återkallat projekt"):
        assert title not in body
    # The call's own page lists the same.
    page = client.get(reverse("public:call_detail", args=[granted.call_id])).content.decode()
    assert "Beviljat projekt" in page and "Pågående projekt" in page and "Hemligt utkast" not in page


def test_granted_projects_show_no_personal_data(client, make_application, cast):
    application = sent(make_application(to=Status.IN_PROGRESS, title="Pågående projekt"))
    close(application.call)
    decision = application.decisions.get(outcome="granted")
    for url in ("/", reverse("public:call_detail", args=[application.call_id])):
        body = client.get(url).content.decode()
        assert "Pågående projekt" in body and application.organisation.name in body
        for private in (
            application.case.diarienummer,
            decision.reasons,
            decision.conditions,
            application.disbursements.get().payment_reference,
            application.purpose,
            cast.applicant.email,
            cast.signatory.get_full_name(),
            cast.decision_maker.get_full_name(),
            cast.officer.get_full_name(),
        ):
            assert private and private not in body, private


def test_start_page_queries_do_not_grow_with_calls_or_granted_projects(client, make_application, cast, reference,
                                                                       django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from workflows import demo

    first, second, third = municipalities(3)
    close(sent(make_application(to=Status.GRANTED, organisation=first, title="Ett")).call)
    with CaptureQueriesContext(connection) as small:
        assert client.get("/").status_code == 200

    # More calls of every kind, with tracks, and more granted projects in another closed call.
    scheme = reference["schemes"]["utvardering"]
    now = timezone.now()
    later = Call.objects.create(scheme=scheme, title="Senare", opens_at=now - timedelta(days=1),
                                closes_at=now + timedelta(days=5), budget=Decimal("100"))
    for i in range(3):
        CallTrack.objects.create(call=later, name=f"Spår {i}", ceiling=Decimal(400_000 * (i + 1)), position=i)
        Call.objects.create(scheme=scheme, title=f"Kommande {i}", opens_at=now + timedelta(days=i + 1),
                            closes_at=now + timedelta(days=30), budget=Decimal("100"))
    for organisation in (second, third):
        application = demo.new_application(cast=cast, organisation=organisation, call=later, title=f"Fler {organisation.name}")
        sent(demo.drive(application=application, to=Status.GRANTED, cast=cast))
    close(later)
    with CaptureQueriesContext(connection) as large:
        body = client.get("/").content.decode()
    assert "Fler " in body and "Spår 2" in body
    assert len(large) == len(small)
    with django_assert_max_num_queries(6):
        client.get("/")


# --- a call's own page ----------------------------------------------------------------


def test_call_page_has_everything_and_a_way_to_apply(client, call):
    response = client.get(reverse("public:call_detail", args=[call.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert f"<h1>{call.title}</h1>" in body
    assert formatting.moment(call.closes_at) in body
    assert "Kunskapsbaserade åtgärder" in body and "Inget beloppstak" in body
    assert "Stat, region eller kommun" in body and "Lägesbild" in body and "Relevans" in body
    # Guidance: the scheme's standing rules and the round's own notes.
    assert "befintlig kommunal verksamhet" in body
    assert call.guidance and call.guidance.split("\n")[0] in body
    # "Logga in och ansök": the login page, coming back to a new application in this call.
    link = re.search(r'<a[^>]*href="([^"]+)"[^>]*>\s*Logga in och ansök', body)
    assert link, "no login-and-apply link"
    target = urlparse(link.group(1).replace("&amp;", "&"))
    assert target.path == reverse("login")
    assert parse_qs(target.query)["next"] == [f"{reverse('bidrag:application_create')}?utlysning={call.pk}"]


def test_call_page_for_a_logged_in_applicant_links_straight_to_the_form(cast, call):
    body = client_for(cast.applicant).get(reverse("public:call_detail", args=[call.pk])).content.decode()
    assert f'href="{reverse("bidrag:application_create")}?utlysning={call.pk}"' in body
    assert "Logga in och ansök" not in body


def test_no_way_to_apply_to_a_call_that_is_not_open(client, call):
    close(call)
    body = client.get(reverse("public:call_detail", args=[call.pk])).content.decode()
    assert "Logga in och ansök" not in body
    assert "Stängd" in body


def test_call_page_for_an_unknown_or_foreign_id_answers_404(client, draft):
    assert client.get(reverse("public:call_detail", args=[uuid.uuid4()])).status_code == 404
    # An application's id is not a call's.
    assert client.get(reverse("public:call_detail", args=[draft.pk])).status_code == 404
    assert client.get("/utlysningar/1/").status_code == 404


def test_call_page_in_english_writes_amounts_and_dates_the_english_way(client, call):
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    body = client.get(reverse("public:call_detail", args=[call.pk])).content.decode()
    assert f"SEK{NBSP}400,000" in body
    with translation.override("en"):
        assert formatting.moment(call.closes_at) in body


def test_call_page_queries_do_not_grow_with_tracks(client, call, django_assert_max_num_queries):
    for i in range(5):
        CallTrack.objects.create(call=call, name=f"Extra {i}", ceiling=None, position=10 + i)
    with django_assert_max_num_queries(4):
        assert client.get(reverse("public:call_detail", args=[call.pk])).status_code == 200


# --- schemes and calls as data --------------------------------------------------------


def test_demo_calls_close_at_2359_stockholm_time(reference):
    for call in reference["calls"].values():
        local = timezone.localtime(call.closes_at)
        assert (local.hour, local.minute) == (23, 59)
        assert str(local.tzinfo) == "Europe/Stockholm"


def test_demo_schemes_carry_the_real_tracks_and_ceilings(reference):
    a = reference["calls"]["kommunala-atgarder"]
    assert [(t.name, t.ceiling) for t in a.tracks.all()] == [
        ("Stärka lokalt brottsförebyggande arbete", Decimal("400000")),
        ("Kunskapsbaserade åtgärder", None),
    ]
    b = reference["calls"]["utvardering"]
    assert sorted(t.ceiling for t in b.tracks.all()) == [Decimal("400000"), Decimal("750000")]
    assert b.scheme.max_duration_months == 24
    assert [c["name"] for c in a.scheme.assessment_criteria] == ["Relevans", "Genomförbarhet", "Bärkraft och långsiktighet"]
    # Running it again adds nothing twice.
    from workflows import demo

    demo.reference_data_ensure()
    assert a.tracks.count() == 2 and b.tracks.count() == 2


def test_admin_edits_a_calls_tracks_inline(cast, call):
    body = client_for(cast.admin).get(reverse("admin:bidrag_call_change", args=[call.pk])).content.decode()
    assert "Stärka lokalt brottsförebyggande arbete" in body
    assert 'name="tracks-TOTAL_FORMS"' in body
