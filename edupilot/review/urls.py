from django.urls import path  # noqa: F401

from . import urls_selection

app_name = "review"
urlpatterns: list = []

urlpatterns += urls_selection.urlpatterns
