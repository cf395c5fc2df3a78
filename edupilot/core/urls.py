from django.urls import path
from django.views.i18n import set_language

from . import jobs_views, notifications_views, views

app_name = "core"
urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("i18n/setlang/", set_language, name="set_language"),
    path("jobs/", jobs_views.job_list, name="job_list"),
    path("jobs/<int:pk>/", jobs_views.job_detail, name="job_detail"),
    path("jobs/<int:pk>/download", jobs_views.job_download, name="job_download"),
    path("notifications/", notifications_views.notification_list, name="notification_list"),
    path("notifications/read", notifications_views.notification_read, name="notification_read"),
    path(
        "notifications/<int:pk>/open",
        notifications_views.notification_open,
        name="notification_open",
    ),
]
