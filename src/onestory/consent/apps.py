from django.apps import AppConfig


class ConsentConfig(AppConfig):
    name = "onestory.consent"
    label = "consent"
