from django.apps import AppConfig


class PartnerApiConfig(AppConfig):
    name = "onestory.partner_api"
    label = "partner_api"
    verbose_name = "Partner API clients"
