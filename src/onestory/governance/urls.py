from django.urls import path

from onestory.governance import views

app_name = "governance"
urlpatterns = [
    path("", views.index, name="index"),
    path("subject-access/new/", views.sar_new, name="sar_new"),
    path("subject-access/<int:request_id>/", views.sar_detail, name="sar_detail"),
    path(
        "subject-access/<int:request_id>/record.<str:fmt>",
        views.sar_download,
        name="sar_download",
    ),
    path("rectification/new/", views.rectification_new, name="rectification_new"),
    path(
        "rectification/<int:request_id>/", views.rectification_detail, name="rectification_detail"
    ),
    path("access-review/", views.access_review, name="access_review"),
    path("retention/", views.retention_queue, name="retention"),
    path("retention/<int:person_id>/", views.retention_review, name="retention_review"),
]
