from django.urls import path

from . import views, views_pilots

app_name = "documents"
urlpatterns = [
    path("", views.index, name="index"),
    path("programmes/<slug:code>/summary/<slug:key>/", views.summary, name="summary"),
    path("programmes/<slug:code>/quotas.xlsx", views.quota_table, name="quotas"),
    path("programmes/<slug:code>/forms.zip", views.forms_zip, name="forms_zip"),
    path("applications/<int:pk>/form.pdf", views.application_form, name="application_form"),
    path("announcements/<int:pk>.pdf", views.announcement, name="announcement"),
    path("pilots/submissions/<int:pk>.pdf", views_pilots.submission_form, name="pilot_submission"),
    path(
        "pilots/programmes/<int:pk>/awards/<slug:stage>.pdf",
        views_pilots.award_decision,
        name="pilot_award_decision",
    ),
    path(
        "pilots/programmes/<int:pk>/acceptance.xlsx",
        views_pilots.acceptance_results,
        name="pilot_acceptance",
    ),
]
