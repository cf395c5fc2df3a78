from django.urls import path  # noqa: F401

app_name = "review_public"
urlpatterns: list = []
