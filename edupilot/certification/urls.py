from django.urls import path

from . import views

app_name = "certification"
urlpatterns = [
    path("", views.home, name="home"),
    path("batches/new/", views.batch_create, name="batch_create"),
    path("batches/<int:pk>/", views.batch_detail, name="batch_detail"),
    path("batches/<int:pk>/entries/", views.entry_list, name="entry_list"),
    path("batches/<int:pk>/entries/decide/", views.entries_decide, name="entries_decide"),
    path("batches/<int:pk>/assess/", views.batch_assess, name="batch_assess"),
    path("batches/<int:pk>/export/", views.batch_export, name="batch_export"),
    path("batches/<int:pk>/freeze/", views.batch_freeze, name="batch_freeze"),
    path("batches/<int:pk>/publish/", views.batch_publish, name="batch_publish"),
    path("batches/<int:pk>/sync/", views.batch_sync, name="batch_sync"),
    path("batches/<int:pk>/standard/", views.batch_adopt, name="batch_adopt"),
    path("batches/<int:pk>/titles/<int:list_pk>/", views.titles_import, name="titles_import"),
    path("batches/<int:pk>/imports/", views.import_list, name="import_list"),
    path("batches/<int:pk>/filing/", views.filing, name="filing"),
    path("imports/<int:pk>/", views.import_detail, name="import_detail"),
    path("sources/", views.source_list, name="source_list"),
    path("sources/new/", views.source_edit, name="source_new"),
    path("sources/<int:pk>/", views.source_edit, name="source_edit"),
    path("standards/", views.standard_list, name="standard_list"),
    path("standards/<int:pk>/", views.standard_detail, name="standard_detail"),
    path("entries/<int:pk>/", views.entry_detail, name="entry_detail"),
    path("entries/<int:pk>/decide/", views.entry_decide, name="entry_decide"),
    path("entries/<int:pk>/visit/", views.visit_assign, name="visit_assign"),
    path("entries/<int:pk>/correction/", views.correction_file, name="correction_file"),
    path("entries/<int:pk>/self-assessment/", views.self_assessment, name="self_assessment"),
    path("entries/<int:pk>/certificate.pdf", views.certificate_pdf, name="certificate"),
    path("entries/<int:pk>/report.<str:fmt>", views.school_report, name="school_report"),
    path("visits/", views.my_visits, name="my_visits"),
    path("visits/<int:pk>/finding/", views.finding_record, name="finding_record"),
    path("visits/<int:pk>/complete/", views.visit_complete, name="visit_complete"),
    path("corrections/<int:pk>/decide/", views.correction_decide, name="correction_decide"),
    path("evidence/<int:pk>/", views.evidence_download, name="evidence"),
]
