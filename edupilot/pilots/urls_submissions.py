"""Routes of plans, reports and cases (what a pilot hands in), and of report completeness."""

from django.urls import path

from . import views_submissions as v

urlpatterns = [
    path("<int:pk>/fill/<slug:stage>/", v.submission_new, name="submission_new"),
    path("submissions/<int:pk>/", v.submission_detail, name="submission"),
    path("submissions/<int:pk>/submit/", v.submission_submit, name="submission_submit"),
    path("submissions/<int:pk>/accept/", v.submission_accept, name="submission_accept"),
    path("submissions/<int:pk>/return/", v.submission_return, name="submission_return"),
    path("submissions/<int:pk>/files/<int:file>/", v.submission_file, name="submission_file"),
    path("completeness/", v.completeness, name="completeness"),
    path("completeness/export/", v.completeness_export, name="completeness_export"),
]
