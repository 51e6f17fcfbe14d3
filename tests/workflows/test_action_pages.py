"""Issue 6: a page offers only what the person may do. Generated from the flow: every
applicant action's page, opened by a sökande and by a firmatecknare, shows its form only to
those the declaration names; the others get the reason (403) and no form to fill in vain."""

import pytest
from django.urls import reverse

from workflows.door import nodes
from workflows.flows import ApplicationFlow

from .test_policy_matrix import RECIPES, declared_for, reach

pytestmark = pytest.mark.django_db


def applicant_pages():
    cases = [(name, a.name) for name, node in nodes().items() for a in node.actions
             if a.is_applicant_action and name != "start"]  # submission has its own page
    cases += [(None, a.name) for a in ApplicationFlow.process_actions if a.is_applicant_action]
    return cases


def _url(application, node, action):
    if node is None:
        return reverse(f"workflows:{action}", args=[application.pk])
    return reverse("workflows:task_action", args=[application.pk, node, action])


@pytest.mark.parametrize("node, action", applicant_pages(), ids=[f"{n}-{a}" for n, a in applicant_pages()])
def test_applicant_action_page_shows_its_form_only_to_those_named(node, action, make_application, cast, client):
    application = reach(node, make_application, cast)
    spec = next(a for a in (nodes()[node].actions if node else ApplicationFlow.process_actions) if a.name == action)
    for name in ("applicant", "signatory"):
        person = getattr(cast, name)
        client.force_login(person)
        response = client.get(_url(application, node, action))
        page = response.content.decode()
        if declared_for(spec, name, person):
            assert response.status_code == 200, (name, action)
            assert 'method="post"' in page and str(spec.label) in page
        else:
            assert response.status_code == 403, (name, action, response.status_code)
            assert "firmatecknare" in page  # the reason, in words
            assert 'name="reason"' not in page and 'name="summary"' not in page, "a form offered in vain"
        detail = client.get(reverse("workflows:application_detail", args=[application.pk])).content.decode()
        assert (_url(application, node, action) in detail) == declared_for(spec, name, person), (name, action)
    assert RECIPES[node]  # reached through the same recipes as the policy matrix
