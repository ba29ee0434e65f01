from django.urls import path

from onestory.measures import views

app_name = "measures"
urlpatterns = [
    path("people/<int:person_id>/measures/", views.person_measures, name="person"),
    path(
        "people/<int:person_id>/measures/<slug:code>/new/",
        views.completion_new,
        name="completion_new",
    ),
    path("people/<int:person_id>/equality/", views.person_equality, name="equality"),
    path("outcomes/", views.outcomes_dashboard, name="outcomes"),
    path("outcomes/equality/", views.outcomes_equality, name="outcomes_equality"),
    path("staff-survey/", views.staff_survey, name="staff_survey"),
    path("admin-area/questionnaires/", views.instruments, name="instruments"),
    path("outcomes/service-costs/", views.service_costs, name="service_costs"),
    path("outcomes/public-health/", views.public_health, name="public_health"),
    path("outcomes/evaluation-export/", views.evaluation_export, name="evaluation_export"),
]
