"""The announcement's and the objection's lifecycles, as transition tables.

The applications they decide move through ``applications.workflows.APPLICATION`` (approve,
reject, objection_upheld, become_pilot); these tables hold the announcement (公示) itself and
each objection raised against it. The rows' ``permission`` predicates (``permissions.py``)
give the pages' buttons (``pages.py``) and their reasons; ``url`` is where a page posts.
"""

from django.utils.translation import gettext_lazy as _

from edupilot.core.workflow import NEW, T, Workflow

from .models import AnnouncementState, ObjectionState

_ANN = "edupilot.selection.announcements"
_CAN = "edupilot.selection.permissions"
ISSUER = _("发文单位")

PUBLISHED, CLOSED = AnnouncementState.PUBLISHED, AnnouncementState.CLOSED
OPEN, UPHELD, DISMISSED = ObjectionState.OPEN, ObjectionState.UPHELD, ObjectionState.DISMISSED

# A row created under a parent (the programme, the announcement) asks its predicate about the
# parent. Other open objections to the same entry are settled by the one upheld.
# fmt: off
ANNOUNCEMENT_ROWS = [
    T("publish",          NEW,       PUBLISHED,           f"{_ANN}.announcement_publish", who=ISSUER, label=_("发布公示"), permission=f"{_CAN}.can_publish_announcement", url="selection:announcements"),
    T("close",            PUBLISHED, CLOSED,              f"{_ANN}.announcement_close",   who=_("发文单位（或公示期满自动）"), label=_("结束公示，公布最终名单"), permission=f"{_CAN}.can_close_announcement", url="selection:announcement_close"),
]
OBJECTION_ROWS = [
    T("record",           NEW,       OPEN,                f"{_ANN}.objection_record",     who=ISSUER, label=_("登记异议"), permission=f"{_CAN}.can_record_objection", url="selection:objection_record"),
    T("resolve",          OPEN,      [UPHELD, DISMISSED], f"{_ANN}.objection_resolve",    who=ISSUER, label=_("处理异议"), permission=f"{_CAN}.can_resolve_objection", url="selection:objection_resolve"),
    T("settled_by_other", OPEN,      UPHELD,              f"{_ANN}.objection_resolve",    who=_("系统"), label=_("同一单位的异议已成立")),
]
# fmt: on

ANNOUNCEMENT = Workflow(
    "announcement", "selection.Announcement", AnnouncementState, ANNOUNCEMENT_ROWS, title=_("公示")
)
OBJECTION = Workflow(
    "objection", "selection.Objection", ObjectionState, OBJECTION_ROWS, title=_("异议")
)
