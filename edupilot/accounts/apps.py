from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "edupilot.accounts"
    label = "accounts"
