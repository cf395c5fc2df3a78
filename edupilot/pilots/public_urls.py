"""Public pages of the pilot period (no login): final titles and published cases."""

from django.urls import path

from . import views_stages

app_name = "pilots_public"
urlpatterns = [path("", views_stages.public_honours, name="honours")]
