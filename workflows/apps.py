from django.apps import AppConfig


class WorkflowsConfig(AppConfig):
    name = "workflows"
    verbose_name = "Arbetsflöden"

    def import_models(self):
        super().import_models()
        # The export record (issue 9) lives beside the exports, outside models.py.
        from . import export_records  # noqa: F401
