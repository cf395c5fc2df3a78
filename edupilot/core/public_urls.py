"""Public pages, no login: announcements (公示) and lists of certified schools."""

from django.urls import include, path

urlpatterns = [
    path("announcements/", include("edupilot.selection.public_urls")),
    path("certified/", include("edupilot.certification.public_urls")),
]
