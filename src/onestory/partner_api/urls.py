from django.urls import path

from onestory.partner_api import views

app_name = "partner_api"
urlpatterns = [
    path("", views.client_list, name="list"),
    path("new/", views.client_new, name="new"),
    path("<int:client_id>/", views.client_detail, name="detail"),
]
