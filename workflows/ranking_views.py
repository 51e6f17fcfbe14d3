"""The ranking of a call (per track) with the allocation simulator, and batch decisions on
the proposals in it (issue 7). Thin: parse, call bidrag.ranking or workflows.batch, render.

The simulator is a GET form and changes nothing: the budget, the partial amounts and the
cut rows travel in the query string (only the changes, so a call of 2 000 rows stays a
short URL), and every page is computed from the same ranking.
"""

from decimal import Decimal, InvalidOperation
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from arenden.errors import ServiceError
from arenden.formatting import money
from arenden.http import report_error
from bidrag import ranking as rank
from bidrag.roles import Role, user_roles

from . import batch, policy

PAGE_SIZES = (25, 100)


def parse_amount(text: str) -> Decimal | None:
    """An amount as a person writes it in Swedish: "150 000", "150000,50", "150 000 kr"."""
    cleaned = (text or "").replace("\u00a0", "").replace(" ", "").removesuffix("kr").replace(",", ".")
    if not cleaned:
        return None
    try:
        value = Decimal(cleaned).quantize(Decimal("0.01"))
    except InvalidOperation:
        return None
    return value if value >= 0 else None


def _int(value, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _may_decide(actor) -> bool:
    return Role.DECISION_MAKER in user_roles(actor) and not policy.is_read_only(actor)


@login_required
@require_GET
def ranking_index(request):
    calls = rank.ranking_calls(actor=request.user)
    if not rank.may_read_ranking(request.user):
        raise Http404
    return render(request, "workflows/ranking_index.html", {"calls": calls})


def _simulation(request, rows):
    """The simulator's state from the query string: changes to rows of this ranking only."""
    problems: list[str] = []
    if not any(request.GET.getlist(name) for name in ("belopp", "rad", "stryk")):
        return {}, set(), problems
    keys = {str(r.application.pk): r for r in rows}
    amounts: dict[str, Decimal] = {}
    for item in request.GET.getlist("belopp"):
        key, _sep, text = item.partition(":")
        value = parse_amount(text)
        if key in keys and value is not None:
            amounts[key] = value
    chosen = request.GET.get("rad", "")
    if chosen in keys:
        text = request.GET.get("nytt_belopp", "").strip()
        value = parse_amount(text)
        if not text:
            amounts.pop(chosen, None)
        elif value is None:
            problems.append(_("Skriv beloppet i kronor, till exempel 150 000."))
        else:
            amounts[chosen] = value
    for key, value in list(amounts.items()):
        row = keys[key]
        if row.fixed:
            del amounts[key]
        elif value > row.requested:
            problems.append(_("%(number)s: beloppet kan inte vara högre än det sökta (%(requested)s).") % {
                "number": row.application.case.diarienummer, "requested": money(row.requested)})
            del amounts[key]
    cut = {key for key in request.GET.getlist("stryk") if key in keys and not keys[key].fixed}
    return amounts, cut, problems


@login_required
@require_GET
def ranking(request, call_id):
    result = rank.call_ranking(actor=request.user, call_id=call_id, track_id=request.GET.get("spar") or None)
    if result is None:
        raise Http404
    problems: list[str] = []
    budget = result.call.budget
    if request.GET.get("ram", "").strip():
        given = parse_amount(request.GET["ram"])
        if given is None:
            problems.append(_("Skriv budgeten i kronor, till exempel 52 000 000."))
        else:
            budget = given
    amounts, cut, more = _simulation(request, result.rows)
    problems += more
    summary = rank.allocate(result.rows, budget=budget, amounts=amounts, cut=cut)
    changes = rank.moved(result.rows, budget=budget, amounts=amounts, cut=cut) if amounts or cut else None

    per_page = _int(request.GET.get("antal"), PAGE_SIZES[0])
    per_page = per_page if per_page in PAGE_SIZES else PAGE_SIZES[0]
    pages = max(1, -(-len(result.rows) // per_page))
    page = min(max(1, _int(request.GET.get("sida"), 1)), pages)
    shown = result.rows[(page - 1) * per_page:page * per_page]
    on_page = {str(r.application.pk) for r in shown}

    state: list[tuple[str, object]] = []
    if result.track:
        state.append(("spar", result.track.pk))
    if request.GET.get("ram", "").strip() and budget != result.call.budget:
        state.append(("ram", str(budget)))
    state += [("belopp", f"{key}:{value}") for key, value in amounts.items()]
    state += [("stryk", key) for key in sorted(cut)]
    line_page = ((summary["line_at"] - 1) // per_page + 1) if summary["line_at"] else None
    return render(request, "workflows/ranking.html", {
        "ranking": result,
        "summary": summary,
        "changes": changes,
        "problems": problems,
        "rows": shown,
        "page": page,
        "pages": pages,
        "per_page": per_page,
        "page_sizes": PAGE_SIZES,
        "state_query": urlencode([("antal", per_page), *state]),
        "base_query": urlencode(state),
        "hidden_amounts": [(key, value) for key, value in amounts.items()],
        "hidden_cuts": sorted(cut - on_page),
        "budget_given": request.GET.get("ram", "") if problems else (str(budget) if budget != result.call.budget else ""),
        "line_page": line_page,
        "may_decide": _may_decide(request.user),
    })


@login_required
@require_POST
def ranking_decide(request, call_id):
    """Batch decision on the chosen proposals: first the confirmation, listing exactly what
    each decision will say, then all of them at once or none."""
    result = rank.call_ranking(actor=request.user, call_id=call_id)
    if result is None or not _may_decide(request.user):
        raise Http404
    wanted = set(request.POST.getlist("ansokan"))
    chosen = [r for r in result.rows if str(r.application.pk) in wanted]
    back = redirect("workflows:ranking", call_id=result.call.pk)
    if not chosen:
        messages.error(request, _("Markera de förslag du vill besluta om."))
        return back
    proposals = batch.open_proposals([r.application.pk for r in chosen])
    status = 200
    failure = None
    if request.POST.get("bekrafta") == "1":
        try:
            decisions = batch.decide_all(actor=request.user, call=result.call,
                                         application_ids=[r.application.pk for r in chosen])
        except batch.BatchRefused as refused:
            failure = refused
            status = report_error(request, refused.error)
        except ServiceError as error:
            status = report_error(request, error)
        else:
            messages.success(request, _("%(count)s beslut är fattade enligt förslagen.") % {"count": len(decisions)})
            return back
    return render(request, "workflows/ranking_decide.html", {
        "ranking": result,
        "chosen": [(r, proposals.get(r.application.pk)) for r in chosen],
        "failure": failure,
    }, status=status)
