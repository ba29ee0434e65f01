from django.urls import path

from onestory.audit import views

app_name = "privacy"
urlpatterns = [
    path("", views.privacy_reviews, name="reviews"),
    path("<int:review_id>/", views.privacy_review, name="review"),
]
