from django import template

from ..list_tables import case_table_body as _case_table_body
from ..list_tables import queue_table_body as _queue_table_body

register = template.Library()


@register.simple_tag
def queue_table_body(rows, is_team_lead):
    """The queue table's rows, rendered in Python (workflows.list_tables)."""
    return _queue_table_body(rows, is_team_lead=bool(is_team_lead))


@register.simple_tag
def case_table_body(applications):
    """The all-cases table's rows, rendered in Python (workflows.list_tables)."""
    return _case_table_body(applications)
