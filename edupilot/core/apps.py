from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "edupilot.core"
    label = "core"
