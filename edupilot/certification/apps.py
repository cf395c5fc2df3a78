from django.apps import AppConfig


class CertificationConfig(AppConfig):
    name = "edupilot.certification"
    label = "certification"
