"""The applicant's list of applications ("Mina ansökningar"): filtered and paged.

A page is read by keyset (arenden.keyset) as LIMIT size+1 from the (created_at, id) index:
no count over every application of every organisation the person represents (a consultant
for many municipalities may see 100 000), so the page costs the same whatever the total.
"""

import uuid

from django import forms
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from arenden.keyset import keyset_page

from . import selectors
from .models.application import Status

PAGE_SIZE = 25


class ListFilter(forms.Form):
    organisation = forms.ChoiceField(label=_("Organisation"), required=False)
    call = forms.ChoiceField(label=_("Utlysning"), required=False)
    status = forms.ChoiceField(label=_("Status"), required=False,
                               choices=[("", _("Alla"))] + list(Status.choices))

    def __init__(self, *args, organisations, calls, **kwargs):
        super().__init__(*args, **kwargs)
        organisation_field = self.fields["organisation"]
        call_field = self.fields["call"]
        assert isinstance(organisation_field, forms.ChoiceField) and isinstance(call_field, forms.ChoiceField)
        organisation_field.choices = [("", _("Alla"))] + [(str(o.pk), o.name) for o in organisations]
        call_field.choices = [("", _("Alla"))] + [(str(c.pk), c.title) for c in calls]


def _as_uuid(value):
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


@login_required
@require_GET
def application_list(request):
    """Pages follow each other by the last row seen (keyset), never by OFFSET: the hundredth
    page costs what the first one does."""
    organisations = list(selectors.organisations_for(actor=request.user).only("id", "name"))
    form = ListFilter(request.GET or None, organisations=organisations,
                      calls=selectors.calls_of_member(actor=request.user).only("id", "title"))
    chosen = form.cleaned_data if form.is_valid() else {}
    applications = selectors.member_applications(
        actor=request.user,
        organisation_id=_as_uuid(chosen.get("organisation")),
        call_id=_as_uuid(chosen.get("call")),
        status=chosen.get("status", ""),
    )
    page = keyset_page(applications, ordering=selectors.MEMBER_LIST_ORDER, params=request.GET, size=PAGE_SIZE)
    return render(
        request,
        "bidrag/application_list.html",
        {
            "applications": page.rows,
            "page": page,
            "filter_form": form,
            "filtered": any(chosen.values()),
            "show_filter": len(organisations) > 1 or page.has_other_pages or any(chosen.values()),
            "calls": selectors.open_calls(),
            "can_create": bool(organisations),
        },
    )
