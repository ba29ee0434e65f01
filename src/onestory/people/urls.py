from django.urls import path

from onestory.people import views

app_name = "people"
urlpatterns = [
    path("", views.people_list, name="list"),
    path("<int:person_id>/", views.person_detail, name="detail"),
    path("<int:person_id>/about-me/", views.about_me_edit, name="about_me_edit"),
    path("<int:person_id>/about-me/history/", views.about_me_history, name="about_me_history"),
    path("<int:person_id>/team/", views.team, name="team"),
    path("<int:person_id>/break-glass/", views.break_glass, name="break_glass"),
    path("<int:person_id>/claim/", views.claim, name="claim"),
    path(
        "<int:person_id>/entries/<str:kind>/<int:entry_id>/seal/",
        views.entry_seal_view,
        name="entry_seal",
    ),
]
