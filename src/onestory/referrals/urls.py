from django.urls import path

from onestory.referrals import views

app_name = "referrals"
urlpatterns = [
    path("people/<int:person_id>/refer/", views.referral_new, name="new"),
    path("referrals/", views.inbox, name="inbox"),
    path("referrals/<int:referral_id>/", views.detail, name="detail"),
    path("alerts/", views.alerts, name="alerts"),
    path("people/<int:person_id>/events/new/", views.event_new, name="event_new"),
]
