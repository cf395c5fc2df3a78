from django.apps import AppConfig


class ProgrammesConfig(AppConfig):
    name = "edupilot.programmes"
    label = "programmes"
