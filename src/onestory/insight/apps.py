from django.apps import AppConfig


class InsightConfig(AppConfig):
    name = "onestory.insight"
    label = "insight"
