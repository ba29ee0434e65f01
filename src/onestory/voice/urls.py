from django.urls import path

from onestory.voice import views

app_name = "voice"
urlpatterns = [
    path("barriers/", views.board, name="board"),
    path("barriers/new/", views.barrier_new, name="new"),
    path("barriers/themes/", views.themes, name="themes"),
    path("barriers/<int:barrier_id>/", views.barrier_detail, name="detail"),
    path("feedback/new/", views.feedback_link_new, name="feedback_link_new"),
    path("feedback/kiosk/start/", views.kiosk_start, name="kiosk_start"),
    path("feedback/results/", views.feedback_results, name="feedback_results"),
    path("f/kiosk/", views.kiosk, name="kiosk"),
    path("f/thank-you/", views.thanks, name="thanks"),
    path("f/<str:token>/", views.feedback, name="feedback"),
    path("speak-up/", views.speak_up, name="speak_up"),
    path("panel/", views.panel, name="panel"),
    path("panel/<int:meeting_id>/", views.panel_meeting, name="panel_meeting"),
    path(
        "panel/recommendations/<int:recommendation_id>/",
        views.recommendation,
        name="recommendation",
    ),
    path("you-said-we-did/", views.you_said_we_did, name="you_said_we_did"),
]
