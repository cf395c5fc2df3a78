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

ANNOUNCEMENT = Workflow(
    "announcement",
    "selection.Announcement",
    AnnouncementState,
    [
        T(
            "publish",
            NEW,
            AnnouncementState.PUBLISHED,
            f"{_ANN}.announcement_publish",
            who=ISSUER,
            label=_("发布公示"),
            # Created under the programme: the predicate is asked about the programme.
            permission=f"{_CAN}.can_publish_announcement",
            url="selection:announcements",
        ),
        T(
            "close",
            AnnouncementState.PUBLISHED,
            AnnouncementState.CLOSED,
            f"{_ANN}.announcement_close",
            who=_("发文单位（或公示期满自动）"),
            label=_("结束公示，公布最终名单"),
            permission=f"{_CAN}.can_close_announcement",
            url="selection:announcement_close",
        ),
    ],
    title=_("公示"),
)

OBJECTION = Workflow(
    "objection",
    "selection.Objection",
    ObjectionState,
    [
        T(
            "record",
            NEW,
            ObjectionState.OPEN,
            f"{_ANN}.objection_record",
            who=ISSUER,
            label=_("登记异议"),
            # Created under the announcement: the predicate is asked about the announcement.
            permission=f"{_CAN}.can_record_objection",
            url="selection:objection_record",
        ),
        T(
            "resolve",
            ObjectionState.OPEN,
            [ObjectionState.UPHELD, ObjectionState.DISMISSED],
            f"{_ANN}.objection_resolve",
            who=ISSUER,
            label=_("处理异议"),
            permission=f"{_CAN}.can_resolve_objection",
            url="selection:objection_resolve",
        ),
        # Other open objections to the same entry are settled by the one upheld.
        T(
            "settled_by_other",
            ObjectionState.OPEN,
            ObjectionState.UPHELD,
            f"{_ANN}.objection_resolve",
            who=_("系统"),
            label=_("同一单位的异议已成立"),
        ),
    ],
    title=_("异议"),
)
