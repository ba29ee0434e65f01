from django.urls import path

from onestory.access import admin_views as v

app_name = "admin_area"
urlpatterns = [
    path("organisations/", v.organisations, name="organisations"),
    path("organisations/new/", v.organisation_edit, name="organisation_new"),
    path("organisations/<int:organisation_id>/", v.organisation_edit, name="organisation_edit"),
    path("organisations/<int:organisation_id>/services/new/", v.service_new, name="service_new"),
    path("users/", v.users, name="users"),
    path("users/new/", v.user_new, name="user_new"),
    path("users/<int:user_id>/", v.user_detail, name="user"),
    path("agreements/", v.agreements, name="agreements"),
    path("agreements/new/", v.agreement_edit, name="agreement_new"),
    path("agreements/<int:agreement_id>/", v.agreement_edit, name="agreement_edit"),
]
