from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "edupilot.audit"
    label = "audit"
