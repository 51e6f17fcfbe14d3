from django import template

from bidrag.ranking import may_read_ranking

register = template.Library()


@register.filter
def reads_ranking(user) -> bool:
    """May read the ranking of a call (case officers, decision makers, auditors)."""
    return may_read_ranking(user)
