"""Public pages of calls (征集通知), no login: mounted at /public/calls/."""

from django.urls import path

from . import public

app_name = "programmes_public"
urlpatterns = [
    path("", public.call_list, name="list"),
    path("<slug:code>/", public.call_detail, name="detail"),
    path(
        "<slug:code>/files/<str:role>/<int:position>/",
        public.call_file,
        name="file",
    ),
]
