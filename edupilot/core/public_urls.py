"""Public pages, no login: the index with search, calls (征集通知), announcements (公示) and
lists of certified schools."""

from django.urls import include, path

from . import public_views

urlpatterns = [
    path("", public_views.public_index, name="public_index"),
    path("calls/", include("edupilot.programmes.public_urls")),
    path("announcements/", include("edupilot.selection.public_urls")),
    path("certified/", include("edupilot.certification.public_urls")),
]
