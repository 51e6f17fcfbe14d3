"""Driving applications through the lifecycle with the real services and flow.

Used by `seed_demo` (demo data in every state), the tests and the benchmark, so all three
exercise the same path a person takes through the pages.
"""

import csv
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from bidrag import services
from bidrag.models import Application, Call, GrantScheme, Membership, Organisation, Proposal
from bidrag.models.application import Status
from bidrag.roles import Role, roles_ensure

from . import door

KOMMUNER_CSV = Path(__file__).resolve().parent.parent / "bidrag" / "data" / "kommuner.csv"

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
    )


def reference_data_ensure() -> dict:
    """Schemes, one open call per scheme, the 290 municipalities and a few associations."""
    from bidrag.orgnr import normalise_orgnr

    schemes = {}
    for spec in SCHEMES:
        scheme, _ = GrantScheme.objects.update_or_create(code=spec["code"], defaults={k: v for k, v in spec.items() if k != "code"})
        schemes[spec["code"]] = scheme
    now = timezone.now()
    year = timezone.localdate().year
    calls = {}
    for code, title, budget in [
        ("kommunala-atgarder", f"Brottsförebyggande åtgärder {year + 1}", Decimal("52000000")),
        ("utvardering", f"Utvärdering och uppföljning {year + 1}", Decimal("6000000")),
    ]:
        call, _ = Call.objects.get_or_create(
            scheme=schemes[code],
            title=title,
            defaults={"opens_at": now - timedelta(days=30), "closes_at": now + timedelta(days=90), "budget": budget,
                      "one_application_per_organisation": code == "kommunala-atgarder"},
        )
        calls[code] = call
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
    today = timezone.localdate()
    services.application_update(
        actor=actor,
        application=application,
        data={
            "purpose": "Anställa en samordnare för trygghetsvandringar och föräldranätverk.",
            "need": "Lägesbilden visar ökad otrygghet och skadegörelse i centrum kvällstid.",
            "plan": "Jan–mar rekrytering, apr–nov genomförande, dec uppföljning.",
            "partners": "Polisen, fastighetsägare, fritidsgårdar",
            "other_state_grants": "Inga",
            "evaluation": "Trygghetsmätning före och efter samt extern uppföljning.",
            "start_date": today.replace(month=1, day=1) + timedelta(days=366),
            "end_date": today.replace(month=12, day=1) + timedelta(days=366),
        },
    )
    services.budget_line_add(actor=actor, application=application, category="staff", description="Samordnare 50 %", amount=amount)
    for kind in application.call.scheme.required_attachments:
        services.attachment_add(actor=actor, application=application, uploaded_file=pdf(f"{kind}.pdf"), kind=kind)
    return application


def new_application(*, cast: Cast, organisation: Organisation, call: Call, title: str, complete: bool = True) -> Application:
    Membership.objects.get_or_create(organisation=organisation, user=cast.signatory, defaults={"role": Membership.Role.SIGNATORY})
    Membership.objects.get_or_create(organisation=organisation, user=cast.applicant, defaults={"role": Membership.Role.APPLICANT})
    application = services.application_create(actor=cast.applicant, organisation=organisation, call=call, title=title)
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
             {"outcome": Proposal.Outcome.GRANTED, "amount": Decimal("250000"), "reasons": "Projektet är relevant, genomförbart och långsiktigt.",
              "conditions": "Slutrapport senast tre månader efter projektets slut. Beviljat belopp är lägre än sökt."})
        ],
        Status.GRANTED: [(cast.decision_maker, "decide", "decide", {})],
        Status.IN_PROGRESS: [
            (cast.officer, "prepare_payment", "prepare_disbursement", {}),
            (cast.finance, "attest_payment", "attest_disbursement", {}),
            (cast.finance2, "pay", "pay_disbursement", {"payment_reference": "BG 5050-1055 / demo"}),
        ],
        Status.REPORT_REVIEW: [
            (cast.signatory, "await_report", "submit_report", {"summary": "Samordnaren anställdes och 24 trygghetsvandringar genomfördes.", "actual_costs": Decimal("248500")})
        ],
        Status.CLOSED: [(cast.officer, "review_report", "approve_report", {"note": "Rapporten är fullständig."})],
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
    }
    target, tail = detours.get(to, (to, []))
    for state in MAIN_PATH[1 : MAIN_PATH.index(target) + 1]:
        for who, node, action, data in steps[state]:
            _do(who, application, node, action, **data)
    for state in tail:
        for who, node, action, data in steps[state]:
            _do(who, application, node, action, **data)
    if to == Status.REJECTED:
        _do(cast.officer, application, "assess", "propose_decision",
            outcome=Proposal.Outcome.REJECTED, reasons="Projektet avser befintlig kommunal verksamhet (3 § förordningen).")
        _do(cast.decision_maker, application, "decide", "decide")
    elif to == Status.DISMISSED:
        _do(cast.officer, application, "review", "propose_dismissal", reasons="Ansökan kom in efter att utlysningen stängt.")
        _do(cast.decision_maker, application, "dismiss", "dismiss")
    elif to == Status.WITHDRAWN:
        door.act(actor=cast.signatory, application_id=application.pk, node=None, action="withdraw",
                 data={"reason": "Projektet finansieras på annat sätt."})
    elif to == Status.REPAYMENT_CLAIMED:
        _do(cast.officer, application, "review_report", "propose_repayment",
            amount=Decimal("50000"), reasons="Medel har använts till löpande verksamhet i strid med villkoren.")
        _do(cast.decision_maker, application, "claim_repayment", "claim_repayment")
    # A fresh instance, not refresh_from_db(): see workflows/views.py submit().
    return Application.objects.select_related("case", "call", "organisation").get(pk=application.pk)
