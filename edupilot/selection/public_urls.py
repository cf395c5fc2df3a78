"""Public announcement pages (公示), no login: mounted at /public/announcements/."""

from django.urls import path

from . import views_public as v

app_name = "selection_public"
urlpatterns = [
    path("", v.public_list, name="list"),
    path("<int:pk>/", v.public_detail, name="detail"),
]
