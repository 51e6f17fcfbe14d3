"""Whether the case page offers *Lämna ut handlingar* (workflows.production): only to those
the policy lets produce, on a case with a diarienummer."""

from django import template

from ..production import may_produce

register = template.Library()


@register.simple_tag(takes_context=True)
def may_produce_documents(context, application) -> bool:
    request = context.get("request")
    if request is None or not application.case.diarienummer:
        return False
    return may_produce(request.user, application)
