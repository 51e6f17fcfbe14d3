"""The draft's steps, per scheme, as data: which fields each step asks for, what they are
called there, and what a step needs before it counts as done (klar).

One list per scheme (by GrantScheme.code); a scheme without a list of its own gets scheme
A's. The same checks decide a step's state in the navigator, refuse "Spara och fortsätt"
with the errors at the fields, and make up the checklist before submission
(bidrag.services.applications.submission_problems), so the three never disagree.

Everything a check needs is read once into DraftFacts (the lines, the attachments' kinds,
the call's tracks): a step page asks the database the same number of questions whatever
the number of budget lines.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from arenden.formatting import money

from .models import Application, BudgetLine, CallTrack
from .models.application import AttachmentKind

FIELDS, BUDGET, ATTACHMENTS, SUMMARY = "fields", "budget", "attachments", "summary"

# The declaration checkboxes of the Försäkringar step are one group ("declarations") in
# the form; each choice is a boolean field of Application.
DECLARATIONS = {
    "declares_not_existing_activity": _(
        "Projektet är inte befintlig kommunal verksamhet (3 § förordningen 2023:442)."
    ),
    "declares_not_statutory_duty": _(
        "Projektet avser inte det kommunen redan ska göra enligt lag (2023:196) om kommuners ansvar "
        "för brottsförebyggande arbete: lägesbild, åtgärdsplan och samordning."
    ),
    "declares_no_other_state_grant": _("Projektet får inget annat statligt bidrag för samma verksamhet."),
    "declares_no_excluded_costs": _(
        "Stödet används inte till löpande kostnader, kapitalinvesteringar, större inköp eller resor utomlands."
    ),
    "declares_one_application": _("Det här är den enda ansökan om stöd för utvärderingen."),
    "declares_report_published": _("Vi lämnar en slutrapport och vet att Brå publicerar resultaten."),
}


@dataclass(frozen=True)
class Step:
    slug: str
    title: str | Promise
    kind: str = FIELDS
    fields: tuple[str, ...] = ()
    required: tuple[str, ...] = ()  # text fields that must be filled in
    labels: dict = field(default_factory=dict)
    help: dict = field(default_factory=dict)
    intro: str | Promise = ""
    declarations: tuple[str, ...] = ()  # Försäkringar: every one must be given


@dataclass
class Problem:
    """Something a step still lacks: `field` names the form field it belongs at, if any;
    `line` the budget line, if any."""

    message: str | Promise
    field: str | None = None
    line: object = None

    def __str__(self) -> str:
        return str(self.message)


_PROJECT_HELP = {
    "track": _("Inriktningen avgör det högsta belopp ni kan söka. Den går att ändra så länge ansökan är ett utkast."),
    "start_date": _("Till exempel 2027-01-01."),
    "end_date": _("Till exempel 2027-12-31."),
}

# Both schemes ask the same about other state grants (DOMAIN.md: purpose and amount).
OTHER_STATE_GRANTS = Step(
    "andra-bidrag", _("Andra statliga bidrag"),
    fields=("other_state_grants_any", "other_state_grants", "other_state_grants_amount"),
    labels={"other_state_grants": _("Syfte med det andra bidraget"),
            "other_state_grants_amount": _("Belopp (kr)")},
    help={"other_state_grants": _("Fylls i om ni svarat ja: vilket bidrag, från vem, och vad det gäller."),
          "other_state_grants_amount": _("Fylls i om ni svarat ja. Hela kronor, till exempel 50000.")},
)

SCHEME_A = (
    Step("projekt", _("Projekt"), fields=("title", "track", "start_date", "end_date"), help=_PROJECT_HELP,
         intro=_("Projektets namn, inriktning och period. Bidrag beslutas per kalenderår.")),
    Step("problemanalys", _("Problemanalys"), fields=("need",), required=("need",),
         labels={"need": _("Problemanalys utifrån kommunens lägesbild")},
         help={"need": _("Vilka brottsproblem ska projektet möta, och hur framgår de av kommunens lägesbild? "
                         "Bifoga lägesbilden under Bilagor.")}),
    Step("mal", _("Mål"), fields=("purpose", "goals"), required=("purpose", "goals"),
         labels={"purpose": _("Syfte och hur medlen ska användas"), "goals": _("Mål")},
         help={"goals": _("Vad ska vara annorlunda när projektet är slut? Skriv mål som går att följa upp.")}),
    Step("malgrupp", _("Målgrupp"), fields=("target_group",), required=("target_group",),
         labels={"target_group": _("Målgrupp")},
         help={"target_group": _("Vilka ska åtgärderna nå, och hur många?")}),
    Step("metod", _("Metod och åtgärder"), fields=("method",), required=("method",),
         labels={"method": _("Metod och åtgärder")},
         help={"method": _("Vilka åtgärder, och varför de kan antas förebygga brott eller öka tryggheten.")}),
    Step("samverkan", _("Samverkan"), fields=("partners",), required=("partners",),
         labels={"partners": _("Samverkansparter")},
         help={"partners": _("Vilka ni samverkar med och vad var och en bidrar med. En extern aktör får anlitas.")}),
    Step("tidsplan", _("Tidsplan"), fields=("plan",), required=("plan",),
         labels={"plan": _("Tidsplan")},
         help={"plan": _("Vad som görs när, inom projektperioden.")}),
    Step("uppfoljning", _("Uppföljning och utvärdering"), fields=("evaluation",), required=("evaluation",),
         labels={"evaluation": _("Hur resultaten ska följas upp och utvärderas")}),
    OTHER_STATE_GRANTS,
    Step("forsakringar", _("Försäkringar"), fields=("declarations",),
         declarations=("declares_not_existing_activity", "declares_not_statutory_duty",
                       "declares_no_other_state_grant"),
         intro=_("Bidrag lämnas inte för befintlig verksamhet, inte för det kommunen redan ska göra enligt lag "
                 "(2023:196) och inte för projekt som får annat statligt bidrag.")),
    Step("budget", _("Budget"), kind=BUDGET),
    Step("bilagor", _("Bilagor"), kind=ATTACHMENTS),
    Step("sammanfattning", _("Sammanfattning"), kind=SUMMARY),
)

SCHEME_B = (
    Step("projekt", _("Projekt"), fields=("title", "track", "start_date", "end_date"), help=_PROJECT_HELP,
         intro=_("Utvärderingens namn, inriktning och period. Projektet får pågå i högst 24 månader.")),
    Step("problemanalys", _("Problemanalys"), fields=("need",), required=("need",),
         labels={"need": _("Verksamheten som ska utvärderas och problemet den möter")},
         help={"need": _("Vilket brottsförebyggande arbete ska utvärderas, och vilka brottsproblem möter det?")}),
    Step("mal", _("Mål"), fields=("purpose", "goals"), required=("purpose", "goals"),
         labels={"purpose": _("Syfte med utvärderingen och hur medlen ska användas"),
                 "goals": _("Frågor som utvärderingen ska besvara")}),
    Step("malgrupp", _("Målgrupp"), fields=("target_group",), required=("target_group",),
         labels={"target_group": _("Målgrupp för verksamheten som utvärderas")}),
    Step("metod", _("Metod"), fields=("method",), required=("method",),
         labels={"method": _("Utvärderingens upplägg och metod")}),
    Step("samverkan", _("Samverkan och utvärderare"), fields=("evaluator", "evaluator_has_phd", "partners"),
         required=("evaluator",),
         labels={"evaluator": _("Utvärderare: namn och lärosäte eller organisation"),
                 "partners": _("Övriga samverkansparter")},
         help={"evaluator_has_phd": _("Krävs för inriktningen med disputerad utvärderare, som har det högre taket. "
                                      "Bifoga intyg om utvärderarens kompetens.")}),
    Step("tidsplan", _("Tidsplan"), fields=("plan",), required=("plan",), labels={"plan": _("Tidsplan")}),
    Step("uppfoljning", _("Uppföljning och spridning"), fields=("evaluation",), required=("evaluation",),
         labels={"evaluation": _("Hur resultaten ska följas upp och spridas")}),
    OTHER_STATE_GRANTS,
    Step("forsakringar", _("Försäkringar"), fields=("declarations",),
         declarations=("declares_no_excluded_costs", "declares_one_application", "declares_report_published"),
         intro=_("Stödet får inte användas till löpande kostnader, kapitalinvesteringar, större inköp eller resor "
                 "utomlands. En ansökan per utvärdering.")),
    Step("budget", _("Budget"), kind=BUDGET),
    Step("bilagor", _("Bilagor"), kind=ATTACHMENTS),
    Step("sammanfattning", _("Sammanfattning"), kind=SUMMARY),
)

STEPS: dict[str, tuple[Step, ...]] = {"kommunala-atgarder": SCHEME_A, "utvardering": SCHEME_B}


def steps_for(scheme) -> tuple[Step, ...]:
    return STEPS.get(scheme.code, SCHEME_A)


def step_get(scheme, slug: str) -> Step | None:
    return next((step for step in steps_for(scheme) if step.slug == slug), None)


def field_label(step: Step, name: str):
    if name in step.labels:
        return step.labels[name]
    if name == "declarations":
        return step.title
    return str(getattr(Application._meta.get_field(name), "verbose_name", name)).capitalize()


@dataclass
class DraftFacts:
    """What the checks read, loaded once per page (a constant number of queries)."""

    application: Application
    lines: list[BudgetLine]
    attachment_kinds: set[str]
    tracks: list[CallTrack]
    place_taken: bool = False

    @property
    def track(self) -> CallTrack | None:
        return next((t for t in self.tracks if t.pk == self.application.track_id), None)

    def ceiling(self) -> Decimal | None:
        """The track's ceiling (None: no ceiling) when a track is chosen, else the scheme's."""
        track = self.track
        if track is not None:
            return track.ceiling
        return self.application.call.scheme.ceiling

    def ceiling_source(self):
        track = self.track
        return _("inriktningens tak") if track is not None else _("stödformens tak")

    def years(self) -> list[int]:
        """The calendar years the project spans (one, or more); none before the dates are set."""
        start, end = self.application.start_date, self.application.end_date
        if not start or not end or end < start:
            return []
        return list(range(start.year, end.year + 1))

    def required_attachments(self) -> list[str]:
        kinds = list(self.application.call.scheme.required_attachments)
        track = self.track
        for kind in track.required_attachments if track is not None else []:
            if kind not in kinds:
                kinds.append(kind)
        return kinds

    def excluded(self) -> dict[str, str]:
        """Category code → the rule that excludes it, for this scheme."""
        return {
            entry["category"]: entry.get("reason", "")
            for entry in self.application.call.scheme.excluded_categories or []
            if isinstance(entry, dict) and "category" in entry
        }

    def totals(self) -> tuple[list[tuple[int | None, Decimal]], Decimal]:
        """The budget per year (in the project's years, then any other) and in all."""
        per_year: dict[int | None, Decimal] = {}
        years: list[int | None] = [*self.years()]
        for line in self.lines:
            # A project within one year stores no year on its lines: they are that year's.
            year = years[0] if line.year is None and len(years) == 1 else line.year
            per_year[year] = per_year.get(year, Decimal("0")) + line.amount
        ordered = [(year, per_year.get(year, Decimal("0"))) for year in years]
        ordered += [(year, total) for year, total in per_year.items() if year not in years]
        return ordered, sum(per_year.values(), Decimal("0"))


def facts_for(application: Application, *, lines=None, attachment_kinds=None) -> DraftFacts:
    from .services.applications import place_taken

    if lines is None:
        lines = list(application.budget_lines.all())
    if attachment_kinds is None:
        attachment_kinds = set(application.case.attachments.values_list("kind", flat=True))
    return DraftFacts(
        application=application,
        lines=lines,
        attachment_kinds=attachment_kinds,
        tracks=list(application.call.tracks.all()),
        place_taken=place_taken(call=application.call, organisation=application.organisation, exclude=application),
    )


def _months(start, end) -> int:
    return (end.year - start.year) * 12 + (end.month - start.month)


def _project_problems(step: Step, facts: DraftFacts) -> list[Problem]:
    application, problems = facts.application, []
    scheme = application.call.scheme
    if not application.title.strip():
        problems.append(Problem(_("Ange projektets namn."), "title"))
    if facts.tracks and facts.track is None:
        problems.append(Problem(_("Välj vilken inriktning i utlysningen ni söker inom."), "track"))
    start, end = application.start_date, application.end_date
    if not start:
        problems.append(Problem(_("Ange projektets startdatum."), "start_date"))
    if not end:
        problems.append(Problem(_("Ange projektets slutdatum."), "end_date"))
    if start and end:
        if end < start:
            problems.append(Problem(_("Slutdatum kan inte ligga före startdatum."), "end_date"))
        elif scheme.max_duration_months and _months(start, end) > scheme.max_duration_months:
            problems.append(Problem(
                _("Projekttiden får vara högst %(months)s månader.") % {"months": scheme.max_duration_months},
                "end_date",
            ))
    return problems


def _text_problems(step: Step, facts: DraftFacts) -> list[Problem]:
    application = facts.application
    problems = [
        Problem(_("%(field)s är inte ifyllt.") % {"field": field_label(step, name)}, name)
        for name in step.required
        if not str(getattr(application, name) or "").strip()
    ]
    if "evaluator_has_phd" in step.fields:
        track = facts.track
        if track is not None and track.requires_evaluator_phd and not application.evaluator_has_phd:
            problems.append(Problem(
                _("Inriktningen ”%(track)s” kräver att utvärderaren har doktorsexamen eller är doktorand under "
                  "handledning. Intyga det, eller välj en annan inriktning under Projekt.") % {"track": track.name},
                "evaluator_has_phd",
            ))
    if "other_state_grants_any" in step.fields:
        if application.other_state_grants_any is None:
            problems.append(Problem(
                _("Svara på om ni har sökt eller fått andra statliga bidrag för projektet."), "other_state_grants_any"
            ))
        elif application.other_state_grants_any:
            if not application.other_state_grants.strip():
                problems.append(Problem(_("Ange syftet med det andra statliga bidraget."), "other_state_grants"))
            if not application.other_state_grants_amount:
                problems.append(Problem(
                    _("Ange beloppet för det andra statliga bidraget."), "other_state_grants_amount"
                ))
    missing = [name for name in step.declarations if not getattr(application, name)]
    if missing:
        problems.append(Problem(
            _("Kryssa i alla försäkringar: %(missing)s")
            % {"missing": " ".join(str(DECLARATIONS[name]) for name in missing)},
            "declarations",
        ))
    return problems


def line_problems(facts: DraftFacts, line: BudgetLine) -> list[str | Promise]:
    """What is wrong with one budget line, by the scheme's rules and the project's years."""
    problems: list[str | Promise] = []
    excluded = facts.excluded()
    if line.category in excluded:
        problems.append(
            _("%(category)s ingår inte i stödet: %(rule)s")
            % {"category": line.get_category_display(), "rule": excluded[line.category]}
        )
    years = facts.years()
    if len(years) > 1 and line.year is None:
        problems.append(_("Ange vilket år kostnaden gäller: projektet pågår %(first)s–%(last)s.")
                        % {"first": years[0], "last": years[-1]})
    elif years and line.year is not None and line.year not in years:
        period = f"{years[0]}–{years[-1]}" if len(years) > 1 else str(years[0])
        problems.append(_("Året %(year)s ligger utanför projektperioden (%(period)s).")
                        % {"year": line.year, "period": period})
    return problems


def budget_problems(facts: DraftFacts) -> list[Problem]:
    problems = []
    for line in facts.lines:
        for message in line_problems(facts, line):
            problems.append(Problem(
                _("Budgetraden ”%(line)s”: %(problem)s") % {"line": line.description, "problem": message}, line=line
            ))
    _per_year, total = facts.totals()
    ceiling = facts.ceiling()
    if total <= 0:
        problems.append(Problem(_("Budgeten saknar kostnader.")))
    elif ceiling and total > ceiling:
        problems.append(Problem(
            _("Sökt belopp %(total)s överstiger %(source)s på %(ceiling)s.")
            % {"total": money(total), "source": facts.ceiling_source(), "ceiling": money(ceiling)}
        ))
    return problems


def _attachment_problems(facts: DraftFacts) -> list[Problem]:
    problems = []
    for kind in facts.required_attachments():
        if kind not in facts.attachment_kinds:
            label = AttachmentKind(kind).label if kind in AttachmentKind.values else kind
            problems.append(Problem(_("Bilaga saknas: %(kind)s.") % {"kind": label}))
    return problems


def call_problems(facts: DraftFacts) -> list[Problem]:
    """The call's rules about who may apply: told in the summary's checklist."""
    from .services.applications import place_taken_message

    application, problems = facts.application, []
    scheme = application.call.scheme
    if scheme.eligible_legal_forms and application.organisation.legal_form not in scheme.eligible_legal_forms:
        problems.append(Problem(
            _("%(form)s kan inte söka %(scheme)s.")
            % {"form": application.organisation.get_legal_form_display(), "scheme": scheme.name}
        ))
    if facts.place_taken:
        problems.append(Problem(place_taken_message(application.call, application.organisation)))
    return problems


def step_problems(step: Step, facts: DraftFacts) -> list[Problem]:
    if step.kind == BUDGET:
        return budget_problems(facts)
    if step.kind == ATTACHMENTS:
        return _attachment_problems(facts)
    if step.kind == SUMMARY:
        return [p for other in steps_for(facts.application.call.scheme) if other.kind != SUMMARY
                for p in step_problems(other, facts)] + call_problems(facts)
    if step.slug == "projekt":
        return _project_problems(step, facts)
    return _text_problems(step, facts)


def all_problems(facts: DraftFacts) -> list[Problem]:
    summary = next(step for step in steps_for(facts.application.call.scheme) if step.kind == SUMMARY)
    return step_problems(summary, facts)
