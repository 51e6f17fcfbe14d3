from django import template

from ..notices import notice_unread_count

register = template.Library()


@register.simple_tag
def unread_notice_count(user) -> int:
    """The header's count of unread notices: one COUNT, only where the header shows it."""
    return notice_unread_count(user=user)
