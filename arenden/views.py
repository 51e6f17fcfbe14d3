"""The public diarium (no login): search the registered items of every case by diarienummer,
date and sender/recipient, showing only what may be shown (arenden.selectors)."""

from django.shortcuts import render
from django.views.decorators.http import require_safe

from . import selectors
from .forms import PublicDiariumSearchForm
from .keyset import count_up_to, keyset_page

PAGE_SIZE = 25
COUNT_LIMIT = 1000


@require_safe
def public_diarium(request):
    form = PublicDiariumSearchForm(request.GET or None)
    searched = form.is_bound and form.is_valid()
    criteria = form.cleaned_data if searched else {}
    entries = selectors.public_diarium_entries(
        diarienummer=criteria.get("dnr") or "", date_from=criteria.get("fran"), date_to=criteria.get("till"),
        counterpart=criteria.get("motpart") or "",
    )
    valid = not form.is_bound or searched
    page = keyset_page(entries, ordering=selectors.PUBLIC_DIARIUM_ORDER, params=request.GET, size=PAGE_SIZE) if valid \
        else None
    counted = count_up_to(entries, COUNT_LIMIT, ordering=selectors.PUBLIC_DIARIUM_ORDER) if valid else 0
    return render(
        request,
        "arenden/public_diarium.html",
        {"form": form, "page": page, "rows": selectors.public_diarium_rows(page.rows) if page else [],
         "total": min(counted, COUNT_LIMIT), "total_capped": counted > COUNT_LIMIT},
        status=200 if valid else 400,
    )
