"""Scoring an application against the scheme's criteria (issue 7). Through the door only,
which has checked the role, the claim and jäv; whoever scores takes part in the assessment
and is barred from deciding (bidrag.events.ASSESSMENT_EVENTS)."""

from django.utils.translation import gettext_lazy as _

from arenden.actors import Actor
from arenden.errors import TransitionNotAllowed, ValidationFailed

from ..events import Event
from ..models import Application, Assessment, Score
from ..models.application import Status
from ..models.assessment import criteria_of
from .common import record, require_door


def assessment_record(*, actor: Actor, application: Application, scores: dict[str, tuple[int, str]]) -> Assessment:
    """The actor's assessment: a score on the call's scale and a written reason for every
    criterion of the scheme (`scores`: criterion code -> (value, reason)). A second call by
    the same assessor replaces their scores; each call is journaled with what was given."""
    require_door()
    if application.status != Status.IN_ASSESSMENT:
        raise TransitionNotAllowed(
            _("Ansökan kan bara bedömas medan den är under bedömning (status nu: ”%(status)s”).")
            % {"status": application.get_status_display()}
        )
    call = application.call
    criteria = criteria_of(call)
    if not criteria:
        raise ValidationFailed(_("Stödformen har inga bedömningsgrunder. En administratör lägger in dem."))
    scale = call.score_scale_max
    problems: dict[str, list[str]] = {}
    given: list[tuple[dict, int, str]] = []
    for criterion in criteria:
        value, reason = scores.get(criterion["code"], (None, ""))
        reason = (reason or "").strip()
        if value is None or not 1 <= int(value) <= scale:
            problems.setdefault(f"score_{criterion['code']}", []).append(
                str(_("Ge %(criterion)s 1–%(max)s poäng.") % {"criterion": criterion["name"], "max": scale}))
        if not reason:
            problems.setdefault(f"reason_{criterion['code']}", []).append(
                str(_("Motivera poängen för %(criterion)s.") % {"criterion": criterion["name"]}))
        given.append((criterion, int(value or 0), reason))
    unknown = set(scores) - {c["code"] for c in criteria}
    if unknown:
        raise ValidationFailed(_("Okänd bedömningsgrund: %(codes)s.") % {"codes": ", ".join(sorted(unknown))})
    if problems:
        raise ValidationFailed(_("Varje bedömningsgrund ska ha poäng och en motivering."), details={"fields": problems})

    assessment, created = Assessment.objects.get_or_create(application=application, assessor=actor)
    if not created:
        assessment.scores.all().delete()
    Score.objects.bulk_create(
        Score(assessment=assessment, criterion=c["code"], criterion_name=c["name"], value=value, scale_max=scale,
              reason=reason, position=i)
        for i, (c, value, reason) in enumerate(given)
    )
    assessment.total = sum(value for _c, value, _r in given)
    assessment.save(update_fields=["total", "updated_at"])
    record(
        actor=actor,
        application=application,
        event=Event.SCORE,
        payload={
            "assessment": assessment.pk,
            "scale_max": scale,
            "total": assessment.total,
            "scores": {c["code"]: {"value": value, "reason": reason} for c, value, reason in given},
            "changed": not created,
        },
    )
    return assessment
