from django.urls import path

from . import views
from .urls_stages import urlpatterns as stage_urls
from .urls_submissions import urlpatterns as submission_urls

app_name = "pilots"
urlpatterns = [
    path("", views.pilot_list, name="list"),
    path("<int:pk>/", views.pilot_detail, name="detail"),
    *submission_urls,
    *stage_urls,
]
