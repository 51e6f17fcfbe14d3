from django.tasks import task

from .services.letters import letter_issue


@task
def issue_decision_letter(decision_id: str) -> str:
    """Render and store a decision's letter once its decision has committed."""
    return str(letter_issue(decision_id=decision_id).pk)
