from django.urls import path

from . import views

app_name = "programmes"
urlpatterns = [
    path("", views.programme_list, name="list"),
    path("lists/", views.list_index, name="lists"),
    path("lists/<slug:code>/", views.list_detail, name="list_detail"),
    path("lists/<slug:code>/import/", views.list_import, name="list_import"),
    path("<slug:code>/", views.programme_detail, name="detail"),
    path("<slug:code>/quotas/", views.quota_page, name="quotas"),
    path("<slug:code>/quotas/<int:pk>/override/", views.quota_override, name="quota_override"),
]
