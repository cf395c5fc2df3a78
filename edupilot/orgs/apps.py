from django.apps import AppConfig


class OrgsConfig(AppConfig):
    name = "edupilot.orgs"
    label = "orgs"
