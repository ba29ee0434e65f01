from django.apps import AppConfig


class VoiceConfig(AppConfig):
    name = "onestory.voice"
    label = "voice"
    verbose_name = "Voice: barriers and feedback"
    default_auto_field = "django.db.models.BigAutoField"
