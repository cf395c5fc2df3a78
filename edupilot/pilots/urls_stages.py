"""Routes of inspections, acceptance, titles, awards."""

from django.urls import path

from . import views_stages as v

urlpatterns: list = [
    path("<int:pk>/inspections/new/", v.inspection_schedule, name="inspection_schedule"),
    path("inspections/<int:pk>/record/", v.inspection_record, name="inspection_record"),
    path("inspections/<int:pk>/respond/", v.inspection_respond, name="inspection_respond"),
    path("inspections/<int:pk>/close/", v.inspection_close, name="inspection_close"),
    path("evidence/<int:pk>/", v.inspection_evidence_file, name="inspection_evidence"),
    path("acceptance/<int:pk>/assign/", v.acceptance_assign, name="acceptance_assign"),
    path("acceptance/<int:pk>/decide/", v.acceptance_decide, name="acceptance_decide"),
    path("acceptance/reviews/<int:pk>/", v.acceptance_score, name="acceptance_score"),
    path("<int:pk>/honours/propose/", v.honour_propose, name="honour_propose"),
    path("<int:pk>/awards/grant/", v.award_grant, name="award_grant"),
    path("programmes/<int:pk>/honours/", v.programme_honours, name="honours"),
    path("programmes/<int:pk>/honours/announce/", v.honours_announce, name="honours_announce"),
    path("programmes/<int:pk>/honours/finalize/", v.honours_finalize, name="honours_finalize"),
    path("honours/<int:pk>/withdraw/", v.honour_withdraw, name="honour_withdraw"),
    path("honours/<int:pk>/objections/", v.honour_objection_record, name="honour_objection"),
    path(
        "honours/objections/<int:pk>/resolve/",
        v.honour_objection_resolve,
        name="honour_objection_resolve",
    ),
    path("programmes/<int:pk>/awards.xlsx", v.awards_xlsx, name="awards_xlsx"),
]
