from django.urls import path

from onestory.audit import views

app_name = "audit"
urlpatterns = [
    path("", views.audit_list, name="list"),
    path("check/", views.audit_check, name="check"),
]
