from django.urls import path

from onestory.consent import views

app_name = "consent"
urlpatterns = [
    path("<int:person_id>/sharing/", views.sharing, name="sharing"),
    path("<int:person_id>/sharing/new/", views.sharing_new, name="sharing_new"),
    path(
        "<int:person_id>/sharing/<int:decision_id>/withdraw/",
        views.sharing_withdraw_view,
        name="sharing_withdraw",
    ),
]
