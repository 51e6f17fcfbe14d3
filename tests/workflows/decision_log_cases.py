"""Decided cases for the decision-log and export tests, through the real door: a partial
grant with a participant (MF 21 §) and its correction (FL 36 §), a rejection and a
dismissal, in three counties."""

from dataclasses import dataclass

import pytest

from bidrag.models import Decision, Organisation
from bidrag.models.application import Status
from tests.domain import MALMO, STOCKHOLM, perform
from workflows import clocks

GOTEBORG = "2120001355"


@dataclass
class Decided:
    granted: Decision  # Stockholm (län 01), 250 000 kr of 300 000 kr, Hugo took part
    correction: Decision  # corrects `granted`
    rejected: Decision  # Malmö (län 12)
    dismissed: Decision  # Göteborg (län 14)

    @property
    def all(self) -> list[Decision]:
        return [self.granted, self.correction, self.rejected, self.dismissed]


def decide_with_participant(make_application, cast, organisation) -> Decision:
    application = make_application(to=Status.DECISION_PROPOSED, organisation=organisation, title="Trygg i centrum")
    perform(actor=cast.decision_maker, application=application, node="decide", action="decide",
            data={"participants": [cast.officer2]})
    return application.decisions.get()


def correct(cast, decision: Decision, *, suffix: str = " (rättat)") -> Decision:
    return clocks.correct(actor=cast.decision_maker, application_id=decision.application_id, decision_id=decision.pk,
                          reasons=decision.reasons + suffix, conditions=decision.conditions, note="Fel i skälen.")


@pytest.fixture
def decided(make_application, cast) -> Decided:
    granted = decide_with_participant(make_application, cast, Organisation.objects.get(orgnr=STOCKHOLM))
    correction = correct(cast, granted)
    rejected = make_application(to=Status.REJECTED, organisation=Organisation.objects.get(orgnr=MALMO),
                                title="Fältarbete").decisions.get()
    dismissed = make_application(to=Status.DISMISSED, organisation=Organisation.objects.get(orgnr=GOTEBORG),
                                 title="Sent inkommen").decisions.get()
    return Decided(granted=granted, correction=correction, rejected=rejected, dismissed=dismissed)
