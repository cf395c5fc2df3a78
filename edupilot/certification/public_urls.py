from django.urls import path

from . import views

app_name = "certification_public"
urlpatterns = [
    path("", views.public_index, name="index"),
    path("<slug:code>/", views.public_batch, name="batch"),
]
