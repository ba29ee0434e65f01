from django.urls import path

from onestory.voice import views

app_name = "voice"
urlpatterns = [
    path("", views.board, name="board"),
    path("new/", views.barrier_new, name="new"),
    path("themes/", views.themes, name="themes"),
    path("<int:barrier_id>/", views.barrier_detail, name="detail"),
]
