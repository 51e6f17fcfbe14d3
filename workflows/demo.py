"""Driving applications through the lifecycle with the real services and flow.

Used by `seed_demo` (demo data in every state), the tests and the benchmark, so all three
exercise the same path a person takes through the pages.
"""

import csv
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from bidrag import services
from bidrag.models import (
    Application,
    Call,
    CallTrack,
    GrantScheme,
    MandateDecision,
    Membership,
    Organisation,
    Proposal,
)
from bidrag.models.application import Status
from bidrag.roles import Role, roles_ensure

from . import door

KOMMUNER_CSV = Path(__file__).resolve().parent.parent / "bidrag" / "data" / "kommuner.csv"

# The two schemes as Brå runs them (../shared/DOMAIN.md, "Scheme A" and "Scheme B"). The
# ceilings that differ per track are on the calls' tracks (CALLS); `ceiling` here is what
# the application services check today.
SCHEMES = [
    {
        "code": "kommunala-atgarder",
        "name": "Statsbidrag till kommuner för brottsförebyggande åtgärder",
        "legal_basis": "Förordning (2023:442) om statsbidrag till kommuner för brottsförebyggande åtgärder",
        "description": "Projektbidrag i mån av tillgång på medel för att stärka, utveckla eller utvärdera "
        "brottsförebyggande åtgärder. Inte för befintlig verksamhet eller för uppgifter enligt lag (2023:196).",
        "eligible_legal_forms": ["offentlig"],
        "ceiling": Decimal("400000"),
        "max_duration_months": 12,
        "required_attachments": ["lagesbild", "atgardsplan", "behorighet"],
        "assessment_criteria": [
            {"name": "Relevans", "description": "Problemet är analyserat och åtgärderna är motiverade utifrån kommunens lägesbild."},
            {"name": "Genomförbarhet", "description": "Budgeten är rimlig och projektet går att genomföra inom bidragsåret."},
            {"name": "Bärkraft och långsiktighet",
             "description": "Arbetet är förankrat hos samverkansparterna och hänger inte på fortsatt finansiering."},
        ],
        "guidance": "Kommuner kan söka bidrag för projekt som stärker, utvecklar eller utvärderar brottsförebyggande "
        "åtgärder. Det går att anlita en extern aktör för arbetet.\n\n"
        "Bidrag lämnas inte för befintlig kommunal verksamhet, inte för projekt som får annat statligt bidrag och "
        "inte för det som kommunen redan ska göra enligt lagen (2023:196) om kommuners ansvar för "
        "brottsförebyggande arbete: lägesbild, åtgärdsplan och samordning.\n\n"
        "Ansökan ska beskriva hur pengarna ska användas, en plan med tidsram, beräknade kostnader, "
        "samverkansparter, andra statliga bidrag som sökts eller beviljats (syfte och belopp) och hur resultaten "
        "ska utvärderas. Behovet ska visas utifrån kommunens brottsproblem. Utrustning bekostas bara för den del "
        "av dess livslängd som ligger inom bidragsperioden.\n\n"
        "Ansökningarna rangordnas inom ramen för de medel som finns. Beslut fattas per kalenderår och kan förenas "
        "med villkor; bidraget betalas ut som ett engångsbelopp kort efter beslutet. Beviljade projekt lämnar "
        "delrapport och slutrapport med ekonomisk redovisning (utdrag ur huvudboken undertecknat av kommunens "
        "ekonomiansvarige, inga schablonkostnader).",
        "information_url": "https://lagen.nu/2023:442",
        "appeal_notice": "Enligt förordningen (2023:442) får beslutet inte överklagas. Om ni ändå vill överklaga, "
        "skriv till Brå inom tre veckor från den dag ni fick del av beslutet och ange diarienumret. Brå registrerar "
        "överklagandet och lämnar det vidare till förvaltningsrätten, som prövar om det får prövas.",
        "appeal_notice_en": "Under Ordinance (2023:442) the decision may not be appealed. If you wish to appeal "
        "anyway, write to Brå within three weeks of the day you were notified of the decision, quoting the case "
        "number. Brå registers the appeal and forwards it to the administrative court, which decides whether it "
        "can be heard.",
    },
    {
        "code": "utvardering",
        "name": "Ekonomiskt stöd för utvärdering och uppföljning",
        "legal_basis": "Brås regleringsbrev; stöd till utvärdering av brottsförebyggande åtgärder",
        "description": "För organisationer som bedriver brottsförebyggande arbete och söker tillsammans med "
        "den forskare som ska utvärdera. Upp till 750 000 kr när utvärderaren är disputerad, annars 400 000 kr.",
        "eligible_legal_forms": ["offentlig", "ideell", "ekonomisk_forening"],
        "ceiling": Decimal("750000"),
        "max_duration_months": 24,
        "required_attachments": ["utvarderare"],
        "excluded_categories": [
            {"category": "running", "reason": "Stödet får inte användas till löpande kostnader."},
            {"category": "capital", "reason": "Stödet får inte användas till kapitalinvesteringar."},
            {"category": "purchase", "reason": "Stödet får inte användas till större inköp."},
            {"category": "travel_abroad", "reason": "Stödet får inte användas till resor utomlands."},
        ],
        "assessment_criteria": [],
        "guidance": "Organisationer som bedriver brottsförebyggande arbete kan söka stöd för att utvärdera och följa "
        "upp sitt arbete, tillsammans med den forskare eller det lärosäte som ska utvärdera. Enskilda personer kan "
        "inte söka.\n\n"
        "Stödet är högst 750 000 kr när utvärderaren har doktorsexamen eller är doktorand under handledning, "
        "annars högst 400 000 kr. Projektet får pågå i högst två år. En ansökan per utvärdering.\n\n"
        "Stödet får inte användas till löpande kostnader, kapitalinvesteringar, större inköp eller resor "
        "utomlands.\n\n"
        "En slutrapport krävs, och Brå publicerar resultaten.",
        "information_url": "https://bra.se/forebygga-brott/sok-ekonomiskt-stod/ekonomiskt-stod-for-utvardering-och-uppfoljning/",
        "appeal_notice": "Beslutet kan överklagas hos förvaltningsrätten. Skriv till Brå inom tre veckor från den dag "
        "ni fick del av beslutet, ange diarienumret, vilket beslut ni överklagar och vilken ändring ni vill ha. "
        "Brå prövar att överklagandet kommit in i tid och lämnar det vidare till domstolen.",
        "appeal_notice_en": "The decision may be appealed to the administrative court. Write to Brå within three "
        "weeks of the day you were notified of the decision, quoting the case number, the decision you appeal and "
        "the change you ask for. Brå checks that the appeal arrived in time and forwards it to the court.",
    },
]

# One open call per scheme for the demo and the tests, with the round's tracks and notes.
CALLS = [
    {
        "scheme": "kommunala-atgarder",
        "title": "Brottsförebyggande åtgärder {year}",
        "budget": Decimal("52000000"),
        "one_application_per_organisation": True,
        "guidance": "En ansökan per kommun i denna utlysning. Ansökan kan omfatta flera åtgärder.\n\n"
        "Ansökan och bilagor blir allmänna handlingar när de skickas in.",
        "tracks": [
            {"name": "Stärka lokalt brottsförebyggande arbete", "ceiling": Decimal("400000"),
             "description": "Projekt som stärker eller utvecklar kommunens lokala brottsförebyggande arbete."},
            {"name": "Kunskapsbaserade åtgärder", "ceiling": None,
             "description": "Kunskapsbaserade brottsförebyggande åtgärder. Inget beloppstak; ansökan prövas mot "
             "de medel som finns."},
        ],
    },
    {
        "scheme": "utvardering",
        "title": "Utvärdering och uppföljning {year}",
        "budget": Decimal("6000000"),
        "one_application_per_organisation": False,
        "guidance": "Bifoga intyg om utvärderarens kompetens. Projektet får pågå i högst 24 månader.",
        "tracks": [
            {"name": "Utvärderare utan doktorsexamen", "ceiling": Decimal("400000"),
             "description": "Utvärderingen görs av en forskare eller utvärderare som inte har doktorsexamen."},
            {"name": "Disputerad utvärderare eller doktorand under handledning", "ceiling": Decimal("750000"),
             "description": "Utvärderaren har doktorsexamen, eller är doktorand och utvärderar under handledning.",
             "requires_evaluator_phd": True, "required_attachments": ["utvarderare"]},
        ],
    },
]

# Fictional associations; their organisationsnummer are made up but pass the Luhn check.
ASSOCIATIONS = [
    ("Föreningen Trygga gator", "802400-0005"),
    ("Stiftelsen Unga mot brott", "802500-0004"),
    ("Grannsamverkan i Norrland ideell förening", "802600-0003"),
]

DEMO_PASSWORD = "bidrag-demo-2026"


@dataclass
class Cast:
    registrar: object
    officer: object
    officer2: object
    decision_maker: object
    finance: object
    finance2: object
    auditor: object
    applicant: object
    signatory: object
    admin: object
    team_lead: object


def _user(username: str, first: str, last: str, roles: list[Role], password: str | None, **extra):
    User = get_user_model()
    user, created = User.objects.get_or_create(
        username=username, defaults={"first_name": first, "last_name": last, "email": f"{username}@example.se", **extra}
    )
    if created and password:
        user.set_password(password)
        user.save(update_fields=["password"])
    user.groups.add(*Group.objects.filter(name__in=[r.value for r in roles]))
    return user


def cast_ensure(*, password: str | None = DEMO_PASSWORD, suffix: str = "") -> Cast:
    roles_ensure()
    s = suffix
    return Cast(
        registrar=_user(f"registrator{s}", "Rut", "Registrator", [Role.REGISTRAR], password),
        officer=_user(f"handlaggare{s}", "Hanna", "Handläggare", [Role.CASE_OFFICER], password),
        officer2=_user(f"handlaggare2{s}", "Hugo", "Handläggare", [Role.CASE_OFFICER], password),
        decision_maker=_user(f"beslutsfattare{s}", "Berit", "Beslutsfattare", [Role.DECISION_MAKER], password),
        finance=_user(f"ekonomi{s}", "Erik", "Ekonom", [Role.FINANCE], password),
        finance2=_user(f"ekonomi2{s}", "Elsa", "Ekonom", [Role.FINANCE], password),
        auditor=_user(f"revisor{s}", "Rolf", "Revisor", [Role.AUDITOR], password),
        applicant=_user(f"sokande{s}", "Sara", "Sökande", [Role.APPLICANT], password),
        signatory=_user(f"firmatecknare{s}", "Fredrik", "Firmatecknare", [Role.APPLICANT], password),
        admin=_user(f"admin{s}", "Ada", "Administratör", [Role.ADMINISTRATOR], password, is_staff=True, is_superuser=True),
        team_lead=_user(f"arbetsledare{s}", "Asta", "Arbetsledare", [Role.TEAM_LEAD], password),
    )


# A call closes at 23.59 Stockholm time on its last day ("21 februari 2027 kl. 23.59").
LAST_MINUTE = time(23, 59)
STOCKHOLM = ZoneInfo("Europe/Stockholm")


def stockholm_time(day: date, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=STOCKHOLM)


def reference_data_ensure() -> dict:
    """Schemes, one open call per scheme, the 290 municipalities and a few associations."""
    from bidrag.orgnr import normalise_orgnr

    schemes = {}
    for spec in SCHEMES:
        scheme, _ = GrantScheme.objects.update_or_create(code=spec["code"], defaults={k: v for k, v in spec.items() if k != "code"})
        schemes[spec["code"]] = scheme
    today = timezone.localdate()
    calls = {}
    for spec in CALLS:
        call, _ = Call.objects.get_or_create(
            scheme=schemes[spec["scheme"]],
            title=spec["title"].format(year=today.year + 1),
            defaults={"opens_at": stockholm_time(today - timedelta(days=30), time(0, 0)),
                      "closes_at": stockholm_time(today + timedelta(days=90), LAST_MINUTE), "budget": spec["budget"],
                      "one_application_per_organisation": spec["one_application_per_organisation"],
                      "guidance": spec["guidance"]},
        )
        for position, track in enumerate(spec["tracks"]):
            CallTrack.objects.update_or_create(call=call, name=track["name"],
                                               defaults={"ceiling": track["ceiling"], "description": track["description"],
                                                         "position": position,
                                                         "requires_evaluator_phd": track.get("requires_evaluator_phd", False),
                                                         "required_attachments": track.get("required_attachments", [])})
        calls[spec["scheme"]] = call
    with transaction.atomic():
        existing = set(Organisation.objects.values_list("orgnr", flat=True))
        rows = list(csv.DictReader(KOMMUNER_CSV.open(encoding="utf-8")))
        Organisation.objects.bulk_create(
            [
                Organisation(name=r["kommun"], orgnr=normalise_orgnr(r["organisationsnummer"]), kommunkod=r["kommunkod"],
                             email=f"registrator@{r['kommunkod']}.kommun.example.se")
                for r in rows
                if normalise_orgnr(r["organisationsnummer"]) not in existing
            ]
        )
        for name, orgnr in ASSOCIATIONS:
            Organisation.objects.get_or_create(orgnr=normalise_orgnr(orgnr), defaults={"name": name, "email": "info@forening.example.se"})
    return {"schemes": schemes, "calls": calls}


def pdf(name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"%PDF-1.4\n% Bidragsportalen demo\n", content_type="application/pdf")


def complete_draft(*, application: Application, actor, amount: Decimal = Decimal("300000")) -> Application:
    """Every step of the draft filled in as the pages would: the texts, the answer on other
    state grants, the scheme's declarations, a track (the first, if none was chosen), a
    budget within the project's year and the attachments the scheme and track require."""
    from bidrag.steps import facts_for, steps_for

    today = timezone.localdate()
    scheme = application.call.scheme
    declarations = {name: True for step in steps_for(scheme) for name in step.declarations}
    track = application.track or application.call.tracks.order_by("position").first()
    # under way this month, so that a demo project can report (not before its start); the
    # end inside the same calendar year keeps the budget to one bidragsår
    start = today.replace(day=1)
    services.application_update(
        actor=actor,
        application=application,
        data={
            "track": track,
            "purpose": "Anställa en samordnare för trygghetsvandringar och föräldranätverk.",
            "need": "Lägesbilden visar ökad otrygghet och skadegörelse i centrum kvällstid.",
            "goals": "Minskad otrygghet i centrum kvällstid, mätt med trygghetsmätningen.",
            "target_group": "Unga 13–18 år och föräldrar i centrum.",
            "method": "Trygghetsvandringar varje vecka och ett föräldranätverk med stöd av fritidsgårdarna.",
            "plan": "Jan–mar rekrytering, apr–nov genomförande, dec uppföljning.",
            "partners": "Polisen, fastighetsägare, fritidsgårdar",
            "evaluator": "Docent Eva Exempel, Malmö universitet",
            "evaluator_has_phd": bool(track and track.requires_evaluator_phd),
            "other_state_grants_any": False,
            "other_state_grants": "",
            "evaluation": "Trygghetsmätning före och efter samt extern uppföljning.",
            "start_date": start,
            "end_date": max(start, min(start + timedelta(days=330), start.replace(month=12, day=31))),
            **declarations,
        },
    )
    material = Decimal("25000") if amount >= Decimal("50000") else Decimal("0")
    services.budget_line_add(actor=actor, application=application, category="staff", description="Samordnare 50 %",
                             amount=amount - material)
    if material:
        services.budget_line_add(actor=actor, application=application, category="material",
                                 description="Trycksaker och material", amount=material)
    application = Application.objects.select_related("call__scheme", "case", "organisation").get(pk=application.pk)
    for kind in facts_for(application).required_attachments():
        services.attachment_add(actor=actor, application=application, uploaded_file=pdf(f"{kind}.pdf"), kind=kind)
    return application


def signatory_mandate_ensure(*, organisation: Organisation, user, registrar) -> Membership:
    """`user` as firmatecknare of `organisation` with a mandate confirmed by the demo registrar,
    recorded as Brå's registrar records one (MandateDecision); the demo has no proof document."""
    now = timezone.now()
    with transaction.atomic():
        membership, _created = Membership.objects.get_or_create(organisation=organisation, user=user)
        if membership.may_sign:
            return membership
        membership.role = Membership.Role.SIGNATORY
        membership.mandate_state = Membership.Mandate.CONFIRMED
        membership.mandate_confirmed_by = registrar
        membership.mandate_confirmed_at = now
        membership.save(update_fields=["role", "mandate_state", "mandate_confirmed_by", "mandate_confirmed_at"])
        MandateDecision.objects.create(
            organisation=organisation, user=user, outcome=MandateDecision.Outcome.CONFIRMED, decided_by=registrar,
            decided_at=now, reasons="Demodata: behörigheten bekräftad utan dokument.",
        )
    return membership


def payment_account_ensure(*, organisation: Organisation) -> Organisation:
    """A made-up bankgiro number for a demo organisation that has none (from its
    organisationsnummer, with a valid check digit), so that a granted demo case can be paid."""
    from stdnum import luhn

    if not organisation.payment_account:
        body = organisation.orgnr[2:9]
        organisation.payment_method, organisation.payment_account = "bankgiro", body + luhn.calc_check_digit(body)
        Organisation.objects.filter(pk=organisation.pk, payment_account="").update(
            payment_method=organisation.payment_method, payment_account=organisation.payment_account)
    return organisation


def new_application(*, cast: Cast, organisation: Organisation, call: Call, title: str, complete: bool = True) -> Application:
    signatory_mandate_ensure(organisation=organisation, user=cast.signatory, registrar=cast.registrar)
    payment_account_ensure(organisation=organisation)
    Membership.objects.get_or_create(organisation=organisation, user=cast.applicant, defaults={"role": Membership.Role.APPLICANT})
    track = call.tracks.order_by("position").first()
    application = services.application_create(actor=cast.applicant, organisation=organisation, call=call, title=title,
                                              track=track)
    if complete:
        complete_draft(application=application, actor=cast.applicant)
    return application


def _do(cast_user, application, node, action, **data):
    return door.act(actor=cast_user, application_id=application.pk, node=node, action=action, data=data)


# The path to each state, as steps from the previous one. Each step: (who, node, action, data).
def _steps(cast: Cast):
    soon = timezone.localdate() + timedelta(days=14)
    return {
        Status.SUBMITTED: [],
        Status.IN_REVIEW: [(cast.registrar, "register", "register", {})],
        Status.AWAITING_SUPPLEMENT: [
            (cast.officer, "review", "request_supplement", {"deadline": soon, "request_text": "Bifoga en uppdaterad lägesbild."})
        ],
        Status.IN_ASSESSMENT: [(cast.officer, "review", "start_assessment", {})],
        Status.AWAITING_COMMENTS: [
            (cast.officer, "assess", "communicate", {"deadline": soon, "request_text": "Yttra er över referensens bedömning."})
        ],
        Status.DECISION_PROPOSED: [
            (cast.officer, "assess", "propose_decision",
             {"outcome": Proposal.Outcome.GRANTED, "amount": Decimal("250000"),
              "reasons": "Projektet är relevant, genomförbart och långsiktigt. Kostnaden för extern "
              "processledning (50 000 kr) beviljas inte: samma uppgift ligger på kommunens samordnare.",
              "communication_waived": "Beslutet grundas enbart på uppgifter som sökanden själv har lämnat.",
              "conditions": "Slutrapport senast tre månader efter projektets slut. Beviljat belopp är lägre än sökt."})
        ],
        Status.GRANTED: [(cast.decision_maker, "decide", "decide", {})],
        Status.IN_PROGRESS: [
            (cast.officer, "prepare_payment", "prepare_disbursement", {}),
            (cast.finance, "attest_payment", "attest_disbursement", {}),
            (cast.finance2, "pay", "pay_disbursement", {"payment_reference": "BG 5050-1055 / demo"}),
        ],
        Status.REPORT_REVIEW: [
            (cast.signatory, "await_report", "submit_report", final_report)
        ],
        Status.CLOSED: [(cast.officer, "review_report", "approve_report", {"note": "Rapporten är fullständig."})],
        Status.CHANGE_REVIEW: [(cast.signatory, "await_report", "request_change", change_request)],
    }


MAIN_PATH = [
    Status.SUBMITTED,
    Status.IN_REVIEW,
    Status.IN_ASSESSMENT,
    Status.DECISION_PROPOSED,
    Status.GRANTED,
    Status.IN_PROGRESS,
    Status.REPORT_REVIEW,
    Status.CLOSED,
]


def final_report(application: Application) -> dict:
    """A complete final report: each budget line's actual cost (the granted share, less a
    little), the results in words and the ledger extract, as the report form cleans them."""
    granted = application.decisions.filter(outcome="granted").order_by("-decided_at").values_list("amount", flat=True).first()
    lines = list(application.budget_lines.all())
    requested = sum(line.amount for line in lines) or Decimal("1")
    share = (granted or requested) / requested
    data: dict = {
        f"line_{line.pk}": (line.amount * share - Decimal("500")).quantize(Decimal("1")) for line in lines
    }
    data["summary"] = "Samordnaren anställdes och 24 trygghetsvandringar genomfördes; otryggheten i centrum minskade enligt mätningen."
    data["financial_report"] = pdf("huvudboksutdrag.pdf")
    return data


def change_request(application: Application, *, large: bool = True) -> dict:
    """Moving money from the largest budget line to another, as the change form cleans it:
    a quarter of the line and more (large: Brå decides) or 1 000 kr (made at once)."""
    lines = sorted(application.budget_lines.all(), key=lambda line: line.amount, reverse=True)
    source, target = lines[0], lines[1]
    amount = (source.amount * Decimal("0.3")).quantize(Decimal("1")) if large else Decimal("1000")
    return {"from_line": str(source.pk), "to_line": str(target.pk), "amount": amount,
            "reason": "Fler trygghetsvandringar än planerat kräver mer tryckt material."}


def drive(*, application: Application, to: str, cast: Cast) -> Application:
    """Take a complete draft to the given state along the usual path."""
    if to == Status.DRAFT:
        return application
    _do(cast.signatory, application, "start", "submit", idempotency_key=f"demo-{application.pk}")
    steps = _steps(cast)
    detours = {
        Status.AWAITING_SUPPLEMENT: (Status.IN_REVIEW, [Status.AWAITING_SUPPLEMENT]),
        Status.AWAITING_COMMENTS: (Status.IN_ASSESSMENT, [Status.AWAITING_COMMENTS]),
        Status.REJECTED: (Status.IN_ASSESSMENT, []),
        Status.DISMISSED: (Status.IN_REVIEW, []),
        Status.WITHDRAWN: (Status.IN_REVIEW, []),
        Status.REPAYMENT_CLAIMED: (Status.REPORT_REVIEW, []),
        Status.CHANGE_REVIEW: (Status.IN_PROGRESS, [Status.CHANGE_REVIEW]),
    }
    target, tail = detours.get(to, (to, []))
    for state in [*MAIN_PATH[1 : MAIN_PATH.index(target) + 1], *tail]:
        for who, node, action, data in steps[state]:
            _do(who, application, node, action, **(data(application) if callable(data) else data))
    if to == Status.REJECTED:
        _do(cast.officer, application, "assess", "propose_decision",
            outcome=Proposal.Outcome.REJECTED,
            reasons="Projektet avser befintlig kommunal verksamhet: enligt ansökan bedrivs fältarbetet redan sedan "
            "2022 inom socialförvaltningens ordinarie budget, och bidrag lämnas inte för sådan verksamhet.",
            communication_waived="Beslutet grundas enbart på uppgifter som sökanden själv har lämnat.")
        _do(cast.decision_maker, application, "decide", "decide")
    elif to == Status.DISMISSED:
        _do(cast.officer, application, "review", "propose_dismissal", reasons="Ansökan kom in efter att utlysningen hade stängt och kan "
            "därför inte prövas i sak; sista dag för ansökan framgick av utlysningen.")
        _do(cast.decision_maker, application, "dismiss", "dismiss")
    elif to == Status.WITHDRAWN:
        door.act(actor=cast.signatory, application_id=application.pk, node=None, action="withdraw",
                 data={"reason": "Projektet finansieras på annat sätt."})
    elif to == Status.REPAYMENT_CLAIMED:
        _do(cast.officer, application, "review_report", "propose_repayment",
            amount=Decimal("50000"),
            reasons="Slutrapporten visar att 50 000 kr av bidraget har gått till lokalhyra för ordinarie "
            "verksamhet, alltså löpande kostnader, i strid med villkoren i beslutet.")
        _do(cast.decision_maker, application, "claim_repayment", "claim_repayment")
    # A fresh instance, not refresh_from_db(): see workflows/views.py submit().
    return Application.objects.select_related("case", "call", "organisation").get(pk=application.pk)
