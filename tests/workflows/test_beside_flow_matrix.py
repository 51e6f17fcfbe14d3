"""What happens beside the flow (appeals, the FL 11/12 § clocks, FL 36 § corrections, a
request for reconsideration and the answer that a decision stands, FL 37 §) has its rules
checked once, in workflows.policy, as the door's are: a matrix of every such rule against
every role, the jäv-barred and the auditor, generated from the rules the entry points
name, so a new entry point without a line here fails. The entry points are found, not
listed: every workflows module that enters through workflows.beside."""

import importlib
import inspect
import pkgutil
import re
from functools import partial

import pytest

import workflows
from arenden.errors import ErrorCode, NotAllowed
from bidrag.models.application import Status
from workflows import door, policy

pytestmark = pytest.mark.django_db

# Each rule beside the flow, and the cast members it lets act (everyone else is refused).
RULES = {
    "check_appeal": (policy.check_appeal, {"registrar", "officer", "officer2"}),
    "check_appeal(dismiss)": (partial(policy.check_appeal, dismiss=True), {"decision_maker"}),
    "check_delay_notice": (policy.check_delay_notice, {"registrar", "officer", "officer2"}),
    "check_demand_refusal": (policy.check_demand_refusal, {"decision_maker"}),
    "check_decision_demand": (policy.check_decision_demand, {"signatory"}),
    "check_correction": (policy.check_correction, {"decision_maker"}),
    "check_reconsideration_request": (policy.check_reconsideration_request, {"signatory"}),
    "check_reconsideration_comments": (policy.check_reconsideration_comments, {"applicant", "signatory"}),
    "check_reconsideration_letter": (policy.check_reconsideration_letter, {"registrar", "officer", "officer2"}),
    "check_reconsideration_answer": (policy.check_reconsideration_answer, {"officer", "officer2"}),
    # TF 2 kap.: the registrar on any case, a case officer on a case they handle (officer assessed it).
    "check_produce_documents": (policy.check_produce_documents, {"registrar", "officer"}),
}
APPLICANT_RULES = {"check_decision_demand", "check_reconsideration_request", "check_reconsideration_comments"}
WHO = ["applicant", "signatory", "registrar", "officer", "officer2", "decision_maker", "finance", "finance2",
       "team_lead", "auditor", "admin"]


def entry_modules():
    """Every workflows module that enters a case beside the flow (imports workflows.beside)."""
    found = []
    for info in pkgutil.iter_modules(workflows.__path__):
        module = importlib.import_module(f"workflows.{info.name}")
        if info.name != "beside" and re.search(r"from \.beside import|from \. import beside", inspect.getsource(module)):
            found.append(module)
    return found


def test_every_rule_the_entry_points_name_is_in_the_matrix():
    modules = entry_modules()
    assert {m.__name__ for m in modules} >= {"workflows.appeals", "workflows.clocks", "workflows.reconsiderations",
                                             "workflows.production"}
    named = set()
    for module in modules:
        named |= set(re.findall(r"policy\.(check_[a-z_]+)", inspect.getsource(module)))
    assert named <= {name.split("(")[0] for name in RULES}, named


@pytest.fixture
def decided(make_application):
    return make_application(to=Status.REJECTED)


@pytest.mark.parametrize("rule", list(RULES))
@pytest.mark.parametrize("who", WHO)
def test_beside_flow_matrix(decided, cast, rule, who):
    check, allowed = RULES[rule]
    actor = getattr(cast, who)
    if who in allowed:
        check(actor=actor, application=decided)
    else:
        with pytest.raises(NotAllowed):
            check(actor=actor, application=decided)


@pytest.mark.parametrize("rule", [r for r in RULES if r not in APPLICANT_RULES])  # staff rules
def test_fl16_whoever_declared_jav_is_refused_by_every_staff_rule(make_application, cast, rule):
    application = make_application(to=Status.IN_ASSESSMENT)
    check, allowed = RULES[rule]
    who = sorted(allowed)[0]
    actor = getattr(cast, who)
    door.declare_conflict(actor=actor, application_id=application.pk, reason="Jag är släkt med projektledaren.")
    with pytest.raises(NotAllowed) as refused:
        check(actor=actor, application=application)
    assert refused.value.code == ErrorCode.CONFLICT_OF_INTEREST
