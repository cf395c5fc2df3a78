from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "edupilot.api"
    label = "api"
