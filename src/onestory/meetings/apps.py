from django.apps import AppConfig


class MeetingsConfig(AppConfig):
    name = "onestory.meetings"
    label = "meetings"
