from django.urls import path

from onestory.casework import views

app_name = "casework"
urlpatterns = [
    path("caseload/", views.my_caseload, name="my_caseload"),
    path("caseload/team/", views.team_caseloads, name="team_caseloads"),
    path("caseload/migrate/", views.migrate, name="migrate"),
    path("caseload/migrate/<int:run_id>/", views.migration, name="migration"),
    path("people/new/", views.person_add, name="person_add"),
    path("people/<int:person_id>/allocate/", views.allocate, name="allocate"),
    path("people/<int:person_id>/contacts/", views.contacts, name="contacts"),
    path("people/<int:person_id>/plan/", views.plan, name="plan"),
    path("people/<int:person_id>/plan/edit/", views.plan_edit, name="plan_edit"),
    path("people/<int:person_id>/plan/history/", views.plan_history, name="plan_history"),
    path("people/<int:person_id>/goals/new/", views.goal_new, name="goal_new"),
    path("people/<int:person_id>/goals/<int:goal_id>/", views.goal, name="goal"),
    path("people/<int:person_id>/reviews/new/", views.review_new, name="review_new"),
    path("people/<int:person_id>/reviews/<int:review_id>/", views.review, name="review"),
    path("people/<int:person_id>/close/", views.close, name="close"),
    path("people/<int:person_id>/safety/", views.safety, name="safety"),
    path(
        "people/<int:person_id>/safeguarding/new/",
        views.safeguarding_new,
        name="safeguarding_new",
    ),
    path("people/<int:person_id>/spends/", views.spends, name="spends"),
    path("safeguarding/", views.safeguarding_list, name="safeguarding_list"),
    path(
        "safeguarding/<int:concern_id>/",
        views.safeguarding_concern,
        name="safeguarding_concern",
    ),
    path("deaths/", views.deaths, name="deaths"),
    path("deaths/<int:death_id>/", views.death, name="death"),
    path("budgets/", views.budgets, name="budgets"),
]
