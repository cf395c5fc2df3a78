from django.urls import path

from . import views

app_name = "dashboards"
urlpatterns = [
    path("", views.dashboard_home, name="home"),
    path("<str:code>/", views.dashboard_org, name="org"),
    path("<str:code>/<slug:table>.xlsx", views.dashboard_export, name="export"),
]
