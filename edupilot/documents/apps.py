from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    name = "edupilot.documents"
    label = "documents"
