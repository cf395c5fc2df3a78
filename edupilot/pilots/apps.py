from django.apps import AppConfig


class PilotsConfig(AppConfig):
    name = "edupilot.pilots"
    label = "pilots"
