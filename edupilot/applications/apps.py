from django.apps import AppConfig


class ApplicationsConfig(AppConfig):
    name = "edupilot.applications"
    label = "applications"
