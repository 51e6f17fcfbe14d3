"""The draft as steps: one page per step (bidrag/steps.py), a navigator with each step's
state, "Spara" and "Spara och fortsätt", autosave (htmx) and the summary.

Nothing typed is lost: a step POST saves every field that could be read, shows the rest
back with the errors at the fields; autosave posts the same fields as they change; a POST
that arrives after the session ended is kept in the new session and shown on the step
once the person has logged in again. Thin views: the checks are the steps', the writes
the services'.
"""

from datetime import date
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import conditional_escape, format_html
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from arenden.errors import NotFound, ServiceError, TransitionNotAllowed
from arenden.formatting import clock, iso_day, money

from . import selectors, services
from .forms import AttachmentForm, BudgetLineForm, OrganisationChangeForm, StepForm
from .models.application import Status
from .services.applications import DRAFT_FIELDS
from .steps import (
    ATTACHMENTS,
    BUDGET,
    DECLARATIONS,
    FIELDS,
    SUMMARY,
    facts_for,
    line_problems,
    step_get,
    step_problems,
    steps_for,
)

_UNSAVED = "bidrag.unsaved"  # session: {"<draft>/<step>": {field: [values]}} posted while logged out
_UNSAVED_FIELDS = {*DRAFT_FIELDS, "declarations"}
_UNSAVED_MAX_CHARS = 20_000


def step_url(application, slug: str, anchor: str = "") -> str:
    url = reverse("bidrag:application_step", args=[application.pk, slug])
    return f"{url}#{anchor}" if anchor else url


def _draft(request, application_id):
    """The member's draft (another organisation's answers 404, as a missing one)."""
    application = selectors.application_for_member(actor=request.user, application_id=application_id)
    if application.deleted_at is not None:
        raise Http404
    return application


def _load(application):
    """The draft's facts for a page: a fixed number of queries, whatever the budget."""
    attachments = list(application.case.attachments.all())
    return facts_for(application, attachment_kinds={a.kind for a in attachments}), attachments


@require_http_methods(["GET", "POST"])
def application_edit(request, application_id):
    """The old edit address: to the first step not yet done (the summary when all are)."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    application = selectors.application_for_member(actor=request.user, application_id=application_id)
    if application.status != Status.DRAFT:
        messages.info(request, _("Ansökan är inskickad och kan inte längre ändras."))
        return redirect("workflows:application_detail", application_id=application.pk)
    if application.deleted_at is not None:
        raise Http404
    facts, _attachments = _load(application)
    for step in steps_for(application.call.scheme):
        if step.kind == SUMMARY or step_problems(step, facts):
            return HttpResponseRedirect(step_url(application, step.slug))
    raise Http404  # pragma: no cover - the summary is always last


def _keep_unsaved(request, application_id, slug) -> None:
    """A step POST that came after the session ended: kept in the new (anonymous) session
    under the draft and step, to be shown there after the login. Only the draft's fields,
    and not without limit; membership is checked when it is shown, never here."""
    kept, size = {}, 0
    for name in request.POST:
        if name not in _UNSAVED_FIELDS:
            continue
        values = request.POST.getlist(name)
        size += sum(len(v) for v in values)
        if size > _UNSAVED_MAX_CHARS * 4:
            break
        kept[name] = [v[:_UNSAVED_MAX_CHARS] for v in values]
    unsaved = request.session.get(_UNSAVED, {})
    unsaved[f"{application_id}/{slug}"] = kept
    request.session[_UNSAVED] = unsaved


def _take_unsaved(request, application, slug) -> QueryDict | None:
    unsaved = request.session.get(_UNSAVED) or {}
    kept = unsaved.pop(f"{application.pk}/{slug}", None)
    if kept is None:
        return None
    request.session[_UNSAVED] = unsaved
    data = QueryDict(mutable=True)
    for name, values in kept.items():
        data.setlist(name, values)
    return data


def _navigator(application, facts, current):
    items = []
    for number, step in enumerate(steps_for(application.call.scheme), start=1):
        items.append({"step": step, "number": number, "url": step_url(application, step.slug),
                      "done": not step_problems(step, facts), "current": step.slug == current.slug})
    return items


def _neighbours(application, step):
    steps = steps_for(application.call.scheme)
    index = next(i for i, s in enumerate(steps) if s.slug == step.slug)
    previous = steps[index - 1] if index > 0 else None
    following = steps[index + 1] if index + 1 < len(steps) else None
    return previous, following


def _kept_form(request, application, *, name: str, form_class, **kwargs):
    from .views import _kept_form as kept

    return kept(request, application, name=name, form_class=form_class, **kwargs)


def _render(request, application, step, *, facts, attachments, form=None, problems=None, status=200, **extra):
    previous, following = _neighbours(application, step)
    call = application.call
    steps = _navigator(application, facts, step)
    context = {
        "application": application,
        "facts": facts,
        "track": facts.track,
        "ceiling": facts.ceiling(),
        "step": step,
        "steps": steps,
        "step_number": next(item["number"] for item in steps if item["current"]),
        "previous": previous and {"step": previous, "url": step_url(application, previous.slug)},
        "next": following and {"step": following, "url": step_url(application, following.slug)},
        "step_problems": problems or [],
        "autosave_url": reverse("bidrag:application_autosave", args=[application.pk, step.slug]),
        "call_closed": not call.is_open(),
        "step_template": f"bidrag/steps/{step.kind}.html",
    }
    if step.kind == FIELDS:
        context["form"] = form or StepForm(step=step, facts=facts)
    elif step.kind == BUDGET:
        per_year, total = facts.totals()
        years = facts.years()
        excluded = facts.excluded()
        context.update(
            lines=[{"line": line, "problems": line_problems(facts, line)} for line in facts.lines],
            per_year=per_year if len(years) > 1 or any(y not in years for y, _t in per_year) else [],
            total=total,
            over_ceiling=bool(facts.ceiling() and total > facts.ceiling()),
            budget_form=_kept_form(request, application, name="budget_line", form_class=BudgetLineForm,
                                   years=years, excluded=excluded)
            or BudgetLineForm(years=years, excluded=excluded),
            excluded=excluded,
        )
    elif step.kind == ATTACHMENTS:
        required = facts.required_attachments()
        context.update(
            attachments=attachments,
            required=[{"kind": kind, "present": kind in facts.attachment_kinds} for kind in required],
            attachment_form=_kept_form(request, application, name="attachment", form_class=AttachmentForm)
            or _attachment_form(request, attachments),
        )
        replacing = context["attachment_form"]["replaces"].value()
        context["replacing"] = next((a for a in attachments if str(a.pk) == str(replacing)), None) if replacing else None
    else:
        per_year, total = facts.totals()
        context.update(
            sections=_summary(application, facts),
            problems=step_problems(step, facts),
            budget_lines=facts.lines,
            per_year=per_year if len(facts.years()) > 1 else [],
            total=total,
            attachments=attachments,
            organisation_form=extra.pop("organisation_form", None) or _organisation_form(request, application),
        )
    context.update(extra)
    return render(request, "bidrag/application_edit.html", context, status=status)


def _organisation_form(request, application, data=None):
    """Offered only to someone who represents another organisation the draft could move to."""
    organisations = selectors.organisations_for(actor=request.user).order_by("name")
    if data is None and organisations.count() < 2:
        return None
    return OrganisationChangeForm(data, organisations=organisations, initial={"organisation": application.organisation_id})


def _summary(application, facts):
    """Every answer, step by step, for the summary page (with an "Ändra" link per step)."""
    from .steps import field_label

    sections = []
    for step in steps_for(application.call.scheme):
        if step.kind != FIELDS:
            continue
        answers = []
        for name in step.fields:
            if name == "declarations":
                for code in step.declarations:
                    answers.append((DECLARATIONS[code], _("Ja") if getattr(application, code) else _("Inte ikryssad")))
                continue
            if name == "track":
                value = facts.track.name if facts.track else ""
            elif name == "other_state_grants_any":
                value = {None: "", True: _("Ja"), False: _("Nej")}[application.other_state_grants_any]
            elif name == "evaluator_has_phd":
                value = _("Ja") if application.evaluator_has_phd else _("Nej")
            else:
                value = getattr(application, name)
            if isinstance(value, date):
                value = iso_day(value)
            elif isinstance(value, Decimal):
                value = money(value)
            answers.append((field_label(step, name), value))
        sections.append({"step": step, "url": step_url(application, step.slug), "answers": answers,
                         "done": not step_problems(step, facts)})
    return sections


@require_http_methods(["GET", "POST"])
def application_step(request, application_id, slug):
    if not request.user.is_authenticated:
        # The session ended while the step was open: keep what was posted, log in, come back.
        if request.method == "POST":
            _keep_unsaved(request, application_id, slug)
            messages.info(request, _("Du har blivit utloggad. Logga in igen, så visas det du skrev på samma sida."))
        return redirect_to_login(reverse("bidrag:application_step", args=[application_id, slug]))
    application = _draft(request, application_id)
    if application.status != Status.DRAFT:
        messages.info(request, _("Ansökan är inskickad och kan inte längre ändras."))
        return redirect("workflows:application_detail", application_id=application.pk)
    step = step_get(application.call.scheme, slug)
    if step is None:
        raise Http404
    facts, attachments = _load(application)
    if request.method == "GET":
        form = None
        unsaved = _take_unsaved(request, application, slug) if step.kind == FIELDS else None
        if unsaved is not None:
            form = StepForm(unsaved, step=step, facts=facts)
            messages.warning(request, _("Det du skrev innan du blev utloggad visas nedan men är inte sparat. "
                                        "Tryck Spara för att behålla det."))
        return _render(request, application, step, facts=facts, attachments=attachments, form=form)

    go_on = request.POST.get("action") == "continue"
    form = None
    if step.kind == FIELDS:
        form = StepForm(request.POST, step=step, facts=facts, validate=go_on)
        saved = _save(request, application, form)
        if saved is None:
            return _refused(request, application)
        application = saved
        facts, attachments = _load(application)
        if go_on:
            for problem in step_problems(step, facts):
                if problem.field in form.fields and problem.field not in form.errors:
                    form.add_error(problem.field, str(problem.message))
        if form.errors:
            return _render(request, application, step, facts=facts, attachments=attachments, form=form,
                           status=400, focus_errors=True)
    elif go_on:
        problems = step_problems(step, facts)
        if problems:
            return _render(request, application, step, facts=facts, attachments=attachments, problems=problems,
                           status=400, focus_errors=True)
    following = _neighbours(application, step)[1]
    if go_on and following is not None:
        return HttpResponseRedirect(step_url(application, following.slug))
    messages.success(request, _("Sparat kl. %(time)s.") % {"time": clock(timezone.now())})
    return HttpResponseRedirect(step_url(application, step.slug))


def _save(request, application, form):
    """Save what of the form could be read; a refusal of the service goes to its field.
    Returns the saved draft, or None when it is no longer a draft."""
    data = form.valid_data()
    if not data:
        return application
    try:
        services.application_update(actor=request.user, application=application, data=data)
    except TransitionNotAllowed:
        return None
    except NotFound:
        raise Http404 from None
    except ServiceError as error:
        field = error.details.get("field")
        form.add_error(field if field in form.fields else None, str(error.message))
        rest = {k: v for k, v in data.items() if k != field}
        if rest:
            services.application_update(actor=request.user, application=application, data=rest)
    return selectors.application_for_member(actor=request.user, application_id=application.pk)


def _refused(request, application):
    return render(request, "bidrag/draft_refused.html", {"application": application}, status=409)


@require_POST
def application_autosave(request, application_id, slug):
    """htmx posts the step's fields as they change: saved as "Spara" saves them, answered
    with the time (for htmx) or 204. After the session ended: kept as the step's POST is."""
    if not request.user.is_authenticated:
        _keep_unsaved(request, application_id, slug)
        login = redirect_to_login(reverse("bidrag:application_step", args=[application_id, slug]))["Location"]
        return _status(request, format_html(
            _("Du är utloggad och det senaste är inte sparat. {link}, så visas det du skrev."),
            link=format_html('<a href="{}">{}</a>', login, _("Logga in igen")),
        ), status=401)
    application = _draft(request, application_id)
    step = step_get(application.call.scheme, slug)
    if step is None or step.kind != FIELDS:
        raise Http404
    if application.status != Status.DRAFT:
        return _status(request, _("Ansökan är inskickad och kan inte längre ändras."), status=409)
    facts, _attachments = _load(application)
    form = StepForm(request.POST, step=step, facts=facts)
    if _save(request, application, form) is None:
        return _status(request, _("Ansökan är inskickad och kan inte längre ändras."), status=409)
    if not request.htmx:
        return HttpResponse(status=204)
    text = _("Sparat kl. %(time)s.") % {"time": clock(timezone.now())}
    if form.errors:
        unreadable = ", ".join(str(form.fields[name].label) for name in form.errors if name in form.fields)
        text += " " + _("Inte sparat, rätta först: %(fields)s.") % {"fields": unreadable}
    return _status(request, text)


def _status(request, text, *, status=200):
    return HttpResponse(conditional_escape(text), status=status, content_type="text/html; charset=utf-8")


def _attachment_form(request, attachments) -> AttachmentForm:
    """The upload form; with ``?ersatt=<id>`` of one of the draft's files, the form that puts a
    new file in its place (its kind chosen)."""
    wanted = request.GET.get("ersatt", "")
    old = next((a for a in attachments if str(a.pk) == wanted), None) if wanted else None
    if old is None:
        return AttachmentForm()
    return AttachmentForm(initial={"kind": old.kind, "replaces": old.pk})


def render_step(request, application, slug: str, *, status: int = 200, **extra):
    """A step page for the other draft views (a refused organisation change, a hand-over)."""
    facts, attachments = _load(application)
    return _render(request, application, step_get(application.call.scheme, slug), facts=facts,
                   attachments=attachments, status=status, **extra)


def summary_slug(application) -> str:
    return steps_for(application.call.scheme)[-1].slug
