from django.urls import path

from onestory.insight import views

app_name = "insight"
urlpatterns = [
    path("by-name-list/", views.by_name_list, name="by_name_list"),
    path("insight/", views.dashboard, name="dashboard"),
    path("insight/figures.csv", views.figures_csv, name="figures_csv"),
    path("insight/board-report.<str:fmt>", views.board_report, name="board_report"),
]
