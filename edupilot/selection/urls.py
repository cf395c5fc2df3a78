"""Routes of selection, mounted under /review/ like before it was its own app (bookmarks keep
working); names in the ``selection`` namespace."""

from django.urls import path

from . import views as v
from . import views_experts as ve

app_name = "selection"
urlpatterns = [
    # the issuer's programme admin
    path("selection/", v.selection_home, name="selection_home"),
    path("selection/<int:programme_pk>/", v.selection_board, name="selection"),
    path("selection/<int:programme_pk>/decide/", v.selection_decide, name="selection_decide"),
    path("selection/<int:programme_pk>/experts/", v.expert_pool, name="expert_pool"),
    path(
        "selection/<int:programme_pk>/auto-assign/",
        v.experts_auto_assign,
        name="experts_auto_assign",
    ),
    path("selection/<int:programme_pk>/announcements/", v.announcements, name="announcements"),
    path("selection/applications/<int:pk>/", v.selection_application, name="selection_application"),
    path("selection/applications/<int:pk>/assign/", v.expert_assign, name="expert_assign"),
    path("selection/applications/<int:pk>/group-opinion/", v.group_opinion, name="group_opinion"),
    path("selection/assignments/<int:pk>/unassign/", v.expert_unassign, name="expert_unassign"),
    path("selection/decisions/<int:pk>/revoke/", v.selection_revoke, name="selection_revoke"),
    path("selection/announcements/<int:pk>/", v.announcement, name="announcement"),
    path(
        "selection/announcements/<int:pk>/objections/",
        v.objection_record,
        name="objection_record",
    ),
    path(
        "selection/announcements/<int:pk>/close/", v.announcement_close, name="announcement_close"
    ),
    path("selection/objections/<int:pk>/resolve/", v.objection_resolve, name="objection_resolve"),
    # experts
    path("expert/", ve.expert_tasks, name="expert_tasks"),
    path("expert/<int:pk>/", ve.expert_task, name="expert_task"),
    path("expert/<int:pk>/files/<int:attachment_id>/", ve.expert_file, name="expert_file"),
    path(
        "expert/<int:pk>/files/<int:attachment_id>/thumb/",
        ve.expert_file_thumb,
        name="expert_file_thumb",
    ),
]
