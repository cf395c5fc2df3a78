from django.urls import path

from . import views

app_name = "applications"
urlpatterns = [
    path("", views.home, name="home"),
    path("start/", views.start, name="start"),
    path("in-scope/", views.org_applications, name="org_list"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/edit/", views.edit, name="edit"),
    path("<int:pk>/autosave/", views.autosave, name="autosave"),
    path("<int:pk>/members/", views.members, name="members"),
    path("<int:pk>/withdraw/", views.withdraw, name="withdraw"),
    path("<int:pk>/versions/<int:number>/", views.version, name="version"),
    path("<int:pk>/files/<int:attachment_id>/", views.attachment, name="attachment"),
    path(
        "<int:pk>/files/<int:attachment_id>/thumb/", views.attachment_thumb, name="attachment_thumb"
    ),
]
