from django.apps import AppConfig


class ReviewConfig(AppConfig):
    name = "edupilot.review"
    label = "review"
