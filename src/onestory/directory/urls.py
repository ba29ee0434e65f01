from django.urls import path

from onestory.directory import views

app_name = "directory"
urlpatterns = [
    path("", views.directory, name="list"),
    path("new/", views.service_edit, name="new"),
    path("<int:service_id>/", views.service_detail, name="detail"),
    path("<int:service_id>/edit/", views.service_edit, name="edit"),
]
