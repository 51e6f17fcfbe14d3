from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from bidrag.models import Application, Call, CallTrack, Organisation
from bidrag.models.application import Status
from bidrag.services.letters import letter_issue
from konton.demo import DEMO_TOTP_KEY, demo_totp_ensure
from notifications.services import outbox_not_sent
from workflows import demo, door

STATES = [
    Status.DRAFT, Status.SUBMITTED, Status.IN_REVIEW, Status.AWAITING_SUPPLEMENT, Status.IN_ASSESSMENT,
    Status.AWAITING_COMMENTS, Status.DECISION_PROPOSED, Status.GRANTED, Status.IN_PROGRESS,
    Status.CHANGE_REVIEW, Status.REPORT_REVIEW, Status.REPAYMENT_CLAIMED, Status.CLOSED, Status.REJECTED, Status.DISMISSED,
    Status.WITHDRAWN,
]


class Command(BaseCommand):
    help = "Load demo data: schemes, open calls, the 290 municipalities, users per role, an application in every state."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Run even when DEBUG is off (never in production).")

    def handle(self, *args, force=False, **options):
        if not settings.DEBUG and not force:
            raise CommandError("seed_demo creates users with a published password; it runs only with DJANGO_DEBUG=1.")
        reference = demo.reference_data_ensure()
        cast = demo.cast_ensure()
        staff = [cast.registrar, cast.officer, cast.officer2, cast.decision_maker, cast.finance, cast.finance2,
                 cast.auditor, cast.admin, cast.team_lead]
        demo_totp_ensure(staff)
        if not Application.objects.exists():
            # The demo's notices are kept but never sent: its addresses are nobody's, and a
            # worker later pointed at real SMTP must not mail them.
            with outbox_not_sent(reason="seed_demo: demodata, skickas inte"):
                kommuner = list(Organisation.objects.filter(orgnr__startswith="2").order_by("kommunkod")[: len(STATES)])
                call = reference["calls"]["kommunala-atgarder"]
                for organisation, state in zip(kommuner, STATES, strict=False):
                    application = demo.new_application(
                        cast=cast, organisation=organisation, call=call, title=f"Trygghetssatsning i {organisation.name}"
                    )
                    demo.drive(application=application, to=state, cast=cast)
                self.stdout.write(f"Created {len(STATES)} demo applications, one in each state.")
                others = list(Organisation.objects.filter(orgnr__startswith="2").order_by("kommunkod")[len(STATES):])
                _earlier_and_upcoming_calls(call, cast, others[:3])
                self.stdout.write("Created a closed earlier round with granted projects, and an upcoming call.")
                _ranking_round(call, cast, others[3:9])
                self.stdout.write("Created six scored applications in the open call, for its ranking.")
        else:
            self.stdout.write("Demo applications already exist; left as they are.")
        self.stdout.write("")
        self.stdout.write(f"Demo logins (password for all: {demo.DEMO_PASSWORD}):")
        for role, user in [
            ("sökande", cast.applicant), ("firmatecknare", cast.signatory), ("registrator", cast.registrar),
            ("handläggare", cast.officer), ("handläggare (2)", cast.officer2), ("beslutsfattare", cast.decision_maker),
            ("ekonomi (attest)", cast.finance), ("ekonomi (utbetalning)", cast.finance2),
            ("arbetsledare (fördelar)", cast.team_lead), ("revisor", cast.auditor),
            ("administratör", cast.admin),
        ]:
            self.stdout.write(f"  {role:<24} {user.username}")
        self.stdout.write("")
        self.stdout.write(
            f"Staff give a two-step code after the password: add the key {DEMO_TOTP_KEY} to an authenticator "
            "app (time-based, 6 digits), or run `manage.py demo_otp_code` for the current code."
        )


def _ranking_round(call: Call, cast, organisations) -> None:
    """Applications in assessment with scores (and two with proposals), so the ranking page
    and its allocation simulator have something to show in the quick start."""
    from bidrag.models.assessment import criteria_of

    criteria = criteria_of(call)
    for n, organisation in enumerate(organisations):
        application = demo.new_application(
            cast=cast, organisation=organisation, call=call, title=f"Förebyggande insatser i {organisation.name}"
        )
        application = demo.drive(application=application, to=Status.IN_ASSESSMENT, cast=cast)
        value = 5 - n % 4  # 5, 4, 3, 2, 5, 4: a spread to rank
        scores = {c["code"]: (value, f"{c['name']}: bedömd till {value} utifrån ansökans beskrivning.") for c in criteria}
        door.act(actor=cast.officer, application_id=application.pk, node="assess", action="score",
                 data={"scores": scores})
        if n < 2:
            door.act(actor=cast.officer, application_id=application.pk, node="assess", action="propose_decision",
                     data={"outcome": "granted", "amount": application.requested_amount(),
                           "reasons": "Väl underbyggd lägesbild och tydlig plan; ryms i budgeten."})


def _earlier_and_upcoming_calls(current: Call, cast, organisations) -> None:
    """The start page shows closed calls with their granted projects and upcoming calls too:
    last year's round of the same scheme, three projects granted in it, and next year's."""
    year = timezone.localdate().year
    earlier = Call.objects.create(
        scheme=current.scheme, title=f"{current.scheme.name} {year - 1}", budget=current.budget,
        opens_at=timezone.now() - timedelta(days=1), closes_at=timezone.now() + timedelta(days=1),
        one_application_per_organisation=current.one_application_per_organisation, guidance=current.guidance,
    )
    for track in current.tracks.all():
        CallTrack.objects.create(call=earlier, name=track.name, ceiling=track.ceiling,
                                 description=track.description, position=track.position)
    for organisation, state in zip(organisations, [Status.CLOSED, Status.CLOSED, Status.IN_PROGRESS], strict=False):
        application = demo.new_application(
            cast=cast, organisation=organisation, call=earlier, title=f"Trygga platser i {organisation.name}"
        )
        demo.drive(application=application, to=state, cast=cast)
        # Last year's letters went out long ago: issued now rather than left to the worker,
        # so the start page lists the round's grants (bidrag.selectors.published_grants).
        for decision in application.decisions.all():
            letter_issue(decision_id=decision.pk)
    # Then the round is over: it opened and closed a year ago.
    Call.objects.filter(pk=earlier.pk).update(
        opens_at=current.opens_at - timedelta(days=365), closes_at=current.closes_at - timedelta(days=365)
    )
    upcoming = Call.objects.create(
        scheme=current.scheme, title=f"{current.scheme.name} {year + 1}", budget=current.budget,
        opens_at=current.closes_at + timedelta(days=200), closes_at=current.closes_at + timedelta(days=290),
        one_application_per_organisation=current.one_application_per_organisation,
    )
    for track in current.tracks.all():
        CallTrack.objects.create(call=upcoming, name=track.name, ceiling=track.ceiling,
                                 description=track.description, position=track.position)
