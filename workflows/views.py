"""Every page that moves an application from one state to another, plus the queues and
the case page. Thin: parse, call workflows.door (which calls the services), render."""

import uuid

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from arenden import sections
from arenden.errors import ServiceError
from arenden.http import report_error
from arenden.keyset import count_up_to, keyset_page
from arenden.models import CaseRead
from arenden.reads import case_read_record
from bidrag import ranking
from bidrag import selectors as bidrag_selectors
from bidrag.models.application import Status
from bidrag.roles import Role, is_staff_reader, user_roles
from bidrag.services.applications import submission_problems

from . import door, policy, selectors
from .flows import WITHDRAW
from .forms import ConflictRulingForm
from .templatetags.flow_tags import correspondence
from .timeline import applicant_timeline

PAGE_SIZES = (25, 100)
# A list's heading counts its rows up to this many, then says "more than": the count
# costs the same at 100 000 rows as at 1 000.
COUNT_LIMIT = 1000


def _staff_application(request, application_id):
    if not is_staff_reader(request.user):
        raise Http404
    return bidrag_selectors.application_get(actor=request.user, application_id=application_id)


def _page_size(request) -> int:
    try:
        per_page = int(request.GET.get("antal", PAGE_SIZES[0]))
    except ValueError:
        return PAGE_SIZES[0]
    return per_page if per_page in PAGE_SIZES else PAGE_SIZES[0]


def _total(counted: int) -> dict:
    """A list's total for its heading: exact up to COUNT_LIMIT, else "more than COUNT_LIMIT"."""
    return {"total": min(counted, COUNT_LIMIT), "total_capped": counted > COUNT_LIMIT}


@login_required
def case_list(request):
    """Every submitted case, for staff readers (the auditor's way in): filter and search.
    Pages by keyset (arenden.keyset), so the last page costs what the first does."""
    if not is_staff_reader(request.user):
        raise Http404
    status = request.GET.get("status", "")
    query = request.GET.get("q", "").strip()
    cases = bidrag_selectors.staff_cases(actor=request.user, status=status if status in Status.values else "")
    search = bidrag_selectors.case_search(query) if query else None
    order = bidrag_selectors.CASE_LIST_ORDER
    per_page = _page_size(request)
    page = keyset_page(bidrag_selectors.staff_case_rows(cases), ordering=order, params=request.GET, size=per_page,
                       any_of=search)
    return render(
        request,
        "workflows/case_list.html",
        {
            "page": page,
            "status": status,
            "q": query,
            "statuses": [s for s in Status if s != Status.DRAFT],
            "per_page": per_page,
            "page_sizes": PAGE_SIZES,
            **_total(count_up_to(cases, COUNT_LIMIT, ordering=order, any_of=search)),
        },
    )


@login_required
def case_detail(request, application_id):
    application = _staff_application(request, application_id)
    case = application.case
    case_read_record(actor=request.user, case_id=case.pk, kind=CaseRead.Kind.CASE_PAGE)
    if policy.is_barred(request.user, application):
        # FL 16 §: whoever declared jäv sees no more of the case than its diarium entry.
        return render(request, "workflows/case_barred.html", {"application": application, "case": case,
                                                               "diarium": case.diarium_entries.all()})
    tasks = selectors.active_tasks(application)
    conflicts = list(case.conflicts.select_related("user", "ruling", "ruling__ruled_by"))
    return render(
        request,
        "workflows/case_detail.html",
        {
            "application": application,
            "case": case,
            "budget_lines": application.budget_lines.all(),
            "attachments": case.attachments.select_related("uploaded_by"),
            # Long sections a page at a time, the newest first (arenden.sections).
            "diarium": sections.rows_page(case.diarium_entries.select_related("attachment").order_by("created_at"),
                                          number=sections.page_number(request.GET.get("diarium")),
                                          param="diarium", anchor="diarium"),
            "journal": sections.journal_page(case.journal.select_related("actor"), total=case.journal_seq,
                                             number=sections.page_number(request.GET.get("logg")),
                                             param="logg", anchor="journal"),
            "letters": sections.rows_page(correspondence(application),
                                          number=sections.page_number(request.GET.get("skrift")),
                                          param="skrift", anchor="skriftvaxling"),
            "tasks": tasks,
            "claimable": selectors.claimable(actor=request.user, application=application, tasks=tasks),
            "actions": [
                item for item in selectors.available_actions(actor=request.user, application=application, tasks=tasks)
                if item["node"] is not None and not item["action"].is_applicant_action
            ],
            "proposals": application.proposals.select_related("proposed_by"),
            "decisions": application.decisions.select_related("decided_by", "presented_by"),
            "disbursements": application.disbursements.select_related("prepared_by", "attested_by", "paid_by"),
            "reports": application.reports.select_related("financial_report").prefetch_related("lines__budget_line"),
            "change_requests": application.change_requests.select_related("from_line", "to_line"),
            "repayments": application.repayments.all(),
            "conflicts": conflicts,
            "rulable": [
                c for c in conflicts
                if not hasattr(c, "ruling") and _may(policy.check_rule_conflict, request.user, application, declaration=c)
            ],
            "ruling_form": ConflictRulingForm(),
            "may_declare": _may(policy.check_declare_conflict, request.user, application) and case.closed_at is None,
            "may_register": _may(policy.check_register_item, request.user, application) and case.diarienummer,
            "is_auditor": Role.AUDITOR in user_roles(request.user),
            "scoring": ranking.case_scoring(application=application),
            "ranking_url": _ranking_url(request.user, application),
        },
    )


def _ranking_url(actor, application) -> str:
    if not ranking.may_read_ranking(actor):
        return ""
    url = reverse("workflows:ranking", args=[application.call_id])
    return f"{url}?spar={application.track_id}" if application.track_id else url


def _may(check, actor, application, **kwargs) -> bool:
    try:
        check(actor=actor, application=application, **kwargs)
    except ServiceError:
        return False
    return True


@login_required
def application_detail(request, application_id):
    """The applicant's view of their application: status, decisions, what is asked of them."""
    application = bidrag_selectors.application_for_member(actor=request.user, application_id=application_id)
    case_read_record(actor=request.user, case_id=application.case_id, kind=CaseRead.Kind.APPLICATION)
    decisions = list(application.decisions.select_related("decided_by", "presented_by"))
    tasks = selectors.active_tasks(application)
    handler = next((t.owner for t in tasks if t.owner_id and t.flow_task_type == "HUMAN"), None)
    return render(
        request,
        "workflows/application_detail.html",
        {
            "application": application,
            "timeline": applicant_timeline(application, decisions=decisions),
            "handler": handler,
            "contact_email": settings.BIDRAG_CONTACT_EMAIL,
            "paid": application.disbursements.filter(status="paid").order_by("-paid_at").first(),
            "change_requests": application.change_requests.select_related("from_line", "to_line"),
            "budget_lines": application.budget_lines.all(),
            "attachments": application.case.attachments.all(),
            "decisions": decisions,
            "reports": application.reports.select_related("financial_report").prefetch_related("lines__budget_line"),
            "diarium": application.case.diarium_entries.all(),
            "is_signatory": bidrag_selectors.is_signatory(actor=request.user, application=application),
            "problems": submission_problems(application) if application.status == Status.DRAFT else [],
            "actions": [
                item for item in selectors.available_actions(actor=request.user, application=application, tasks=tasks)
                if item["node"] is not None and item["action"].is_applicant_action
            ],
            "can_withdraw": policy.may_take(actor=request.user, application=application, action=WITHDRAW),
        },
    )


def _after_action_url(request, application):
    if _back_to_case(request, application):
        return redirect("workflows:case_detail", application_id=application.pk)
    return redirect("workflows:application_detail", application_id=application.pk)


@login_required
@require_http_methods(["GET", "POST"])
def task_action(request, application_id, node, action):
    application = bidrag_selectors.application_get(actor=request.user, application_id=application_id)
    flow_node, spec = door.find(node, action)
    if spec is None or spec.is_clock_action:
        raise Http404
    if spec.is_applicant_action:
        bidrag_selectors.application_for_member(actor=request.user, application_id=application_id)
    elif not is_staff_reader(request.user):
        raise Http404
    if request.method == "GET" and (refusal := _refusal(request, application, spec)):
        return refusal
    posted = request.method == "POST"
    form = _action_form(spec, application, request.POST if posted else None, request.FILES if posted else None,
                        actor=request.user)
    status = 200
    if posted:
        if form is None or form.is_valid():
            try:
                door.act(
                    actor=request.user,
                    application_id=application.pk,
                    node=node,
                    action=action,
                    data=form.cleaned_data if form else {},
                )
            except ServiceError as error:
                status = report_error(request, error)
                _errors_at_fields(form, error)
            else:
                messages.success(request, _("Klart: %(action)s.") % {"action": spec.label})
                return _after_action_url(request, application)
        else:
            status = 400
    return render(
        request,
        "workflows/task_action.html",
        {"application": application, "spec": spec, "node": node, "form": form},
        status=status,
    )


@login_required
@require_POST
def task_claim(request, application_id, node):
    application = _staff_application(request, application_id)
    release = request.POST.get("release") == "1"
    try:
        if release:
            door.release(actor=request.user, application_id=application.pk, node=node)
        else:
            door.claim(actor=request.user, application_id=application.pk, node=node)
    except ServiceError as error:
        report_error(request, error)
        return redirect("workflows:case_detail", application_id=application.pk)
    messages.success(request, _("Uppgiften är lämnad tillbaka till kön.") if release else _("Du har tagit uppgiften."))
    return redirect("workflows:case_detail", application_id=application.pk)


def _action_form(spec, application, data, files, actor=None):
    if spec.form is None:
        return None
    if getattr(spec.form, "needs_application", False):
        if getattr(spec.form, "needs_actor", False):  # e.g. the assessor's own earlier scores
            return spec.form(data, files, application=application, actor=actor)
        return spec.form(data, files, application=application)
    return spec.form(data, files)


def _errors_at_fields(form, error: ServiceError) -> None:
    """A service's per-field findings shown next to the fields, not only in the banner."""
    if form is None:
        return
    for field, texts in (error.details or {}).get("fields", {}).items():
        if field in form.fields:
            for text in texts:
                form.add_error(field, text)


def _back_to_case(request, application) -> bool:
    return is_staff_reader(request.user) and not bidrag_selectors.is_member(actor=request.user, application=application)


def _refused(request, application, error: ServiceError):
    """A refused action: the message, a way back, and the error's own status."""
    status = report_error(request, error)
    return render(
        request, "workflows/refused.html", {"application": application, "back_to_case": _back_to_case(request, application)},
        status=status,
    )


def _refusal(request, application, spec):
    """An action's page is offered only to someone the policy lets take it: the others are
    told why at once (403), instead of after filling in the form."""
    try:
        policy.check(actor=request.user, application=application, action=spec)
    except ServiceError as error:
        return _refused(request, application, error)
    return None


@login_required
@require_POST
def declare_conflict(request, application_id):
    application = _staff_application(request, application_id)
    try:
        door.declare_conflict(actor=request.user, application_id=application.pk, reason=request.POST.get("reason", ""))
    except ServiceError as error:
        return _refused(request, application, error)
    messages.success(request, _("Jävsanmälan är registrerad. Du kan inte delta i ärendet innan jävsfrågan är avgjord."))
    return redirect("workflows:case_detail", application_id=application.pk)


@login_required
@require_POST
def rule_conflict(request, application_id, declaration_id):
    application = _staff_application(request, application_id)
    form = ConflictRulingForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Ange om jäv föreligger och skälen för beslutet."))
        return redirect("workflows:case_detail", application_id=application.pk)
    try:
        door.rule_conflict(
            actor=request.user, application_id=application.pk, declaration_id=declaration_id,
            upheld=form.cleaned_data["upheld"] == "yes", reasons=form.cleaned_data["reasons"],
        )
    except ServiceError as error:
        return _refused(request, application, error)
    messages.success(request, _("Beslutet i jävsfrågan är registrerat."))
    return redirect("workflows:case_detail", application_id=application.pk)


@login_required
@require_http_methods(["GET", "POST"])
def submit(request, application_id):
    application = bidrag_selectors.application_for_member(actor=request.user, application_id=application_id)
    status = 200
    if request.method == "POST":
        try:
            door.act(
                actor=request.user, application_id=application.pk, node="start", action="submit",
                data={"idempotency_key": request.POST.get("idempotency_key", "")[:64]},
            )
        except ServiceError as error:
            status = report_error(request, error)
        else:
            messages.success(request, _("Ansökan är inskickad. En mottagningsbekräftelse skickas med e-post."))
            return redirect("workflows:application_detail", application_id=application.pk)
        # Re-read as a fresh instance: refresh_from_db() on the protected FSM field flips
        # django-fsm's shared flag, which is not thread-safe under a threaded server.
        application = bidrag_selectors.application_for_member(actor=request.user, application_id=application.pk)
    return render(
        request,
        "workflows/submit.html",
        {
            "application": application,
            "problems": submission_problems(application) if application.status == Status.DRAFT else [],
            "is_signatory": bidrag_selectors.is_signatory(actor=request.user, application=application),
            "idempotency_key": uuid.uuid4().hex,
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def withdraw(request, application_id):
    application = bidrag_selectors.application_for_member(actor=request.user, application_id=application_id)
    if request.method == "GET" and (refusal := _refusal(request, application, WITHDRAW)):
        return refusal
    form = WITHDRAW.form(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                door.act(
                    actor=request.user, application_id=application.pk, node=None, action="withdraw",
                    data=form.cleaned_data,
                )
            except ServiceError as error:
                status = report_error(request, error)
            else:
                messages.success(request, _("Ansökan är återkallad."))
                return redirect("workflows:application_detail", application_id=application.pk)
        else:
            status = 400
    return render(request, "workflows/withdraw.html", {"application": application, "form": form}, status=status)
