from django.apps import AppConfig


class BidragConfig(AppConfig):
    name = "bidrag"
    verbose_name = "Bidrag"
