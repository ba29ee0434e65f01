from django.apps import AppConfig


class GovernanceConfig(AppConfig):
    name = "onestory.governance"
    label = "governance"
    verbose_name = "Information governance"
