from django.urls import path

from onestory.intake import views

app_name = "intake"
urlpatterns = [
    path("", views.imports, name="imports"),
    path("<int:import_id>/", views.report, name="report"),
    path("<int:import_id>/quarantine.csv", views.quarantine_csv, name="quarantine_csv"),
    path("review/", views.review_list, name="review"),
    path("review/<int:pair_id>/", views.review_pair, name="review_pair"),
    path("identity/<int:person_id>/", views.identity, name="identity"),
]
