from django.views import View


class TaskView(View):
    """Placeholder for viewflow's View node; our case pages drive the tasks (see case_views)."""
