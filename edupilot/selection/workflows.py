"""The announcement's and the objection's lifecycles, as transition tables.

The applications they decide move through ``applications.workflows.APPLICATION`` (approve,
reject, objection_upheld, become_pilot); these tables hold the announcement (公示) itself and
each objection raised against it.
"""

from django.utils.translation import gettext_lazy as _

from edupilot.core.workflow import NEW, T, Workflow

from .models import AnnouncementState, ObjectionState

_ANN = "edupilot.selection.announcements"
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
        ),
        T(
            "close",
            AnnouncementState.PUBLISHED,
            AnnouncementState.CLOSED,
            f"{_ANN}.announcement_close",
            who=_("发文单位（或公示期满自动）"),
            label=_("结束公示，公布最终名单"),
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
        ),
        T(
            "resolve",
            ObjectionState.OPEN,
            [ObjectionState.UPHELD, ObjectionState.DISMISSED],
            f"{_ANN}.objection_resolve",
            who=ISSUER,
            label=_("处理异议"),
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
