from django.apps import AppConfig


class ArendenConfig(AppConfig):
    name = "arenden"
    verbose_name = "Ärenden"
