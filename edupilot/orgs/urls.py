from django.urls import path

from . import views

app_name = "orgs"
urlpatterns = [
    path("", views.browse, name="browse"),
    path("mine/", views.mine, name="mine"),
    path("import/", views.import_roster, name="import"),
    path("units/", views.units, name="units"),
    path("import/template.xlsx", views.import_template, name="import_template"),
    path("o/<str:code>/", views.detail, name="detail"),
    path("o/<str:code>/edit/", views.edit, name="edit"),
    path("o/<str:code>/move/", views.move, name="move"),
]
