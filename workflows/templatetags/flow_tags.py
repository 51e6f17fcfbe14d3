"""Template questions to the flow, for pages of other apps that must offer only what the
door would allow (DESIGN.md §2: bidrag never imports workflows; its templates may ask).

    {% load flow_tags %}{% may_take application "start" "submit" as may_submit %}
"""

from django import template

from .. import door, policy

register = template.Library()


@register.simple_tag(takes_context=True)
def may_take(context, application, node, action) -> bool:
    """Whether the door's policy would let the person viewing the page take `action` at `node`."""
    _node, spec = door.find(node or None, action)
    request = context.get("request")
    if spec is None or request is None:
        return False
    return policy.may_take(actor=request.user, application=application, action=spec)
