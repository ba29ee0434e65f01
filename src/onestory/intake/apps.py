from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "onestory.intake"
    label = "intake"
