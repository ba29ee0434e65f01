from django.urls import path

from onestory.meetings import views

app_name = "meetings"
urlpatterns = [
    path("meetings/", views.meeting_list, name="list"),
    path("meetings/<int:meeting_id>/", views.meeting_detail, name="detail"),
    path("actions/", views.actions, name="actions"),
    path("actions/<int:action_id>/", views.action_detail, name="action"),
    path("measures/working-together/", views.working_together, name="working_together"),
]
