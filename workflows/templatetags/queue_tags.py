from django import template

from ..queue_table import queue_table_body as _queue_table_body

register = template.Library()


@register.simple_tag
def queue_table_body(rows, is_team_lead):
    """The queue table's rows, rendered in Python (workflows.queue_table)."""
    return _queue_table_body(rows, is_team_lead=bool(is_team_lead))
