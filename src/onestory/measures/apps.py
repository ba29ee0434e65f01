from django.apps import AppConfig


class MeasuresConfig(AppConfig):
    name = "onestory.measures"
    label = "measures"
    verbose_name = "Measures and outcomes"
    default_auto_field = "django.db.models.BigAutoField"
