from django.apps import AppConfig


class CaseworkConfig(AppConfig):
    name = "onestory.casework"
    label = "casework"
