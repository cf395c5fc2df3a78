"""Who may do what in certification: ``can_<verb>_<thing>(scope, obj) -> (allowed, reason)``.

``scope`` is the membership the user acts through (``request.scope``, or ``job.scope()``);
``scope=None`` is the command line or the demo (a system actor), which may do everything.
The reason is what the screen shows. Services call the same predicates through
:func:`edupilot.core.errors.check` (a refusal is a :class:`~edupilot.core.errors.Denied`,
403), and the pages grey out a button with the reason, so an action is refused the same way
whether it comes from a page, the API or a script.

- The batch owner (a city) runs the batch: roster, titles, freezing, publishing.
- Each school is certified by its certifier: the district (county or functional zone)
  it sits under, or the batch owner for city-direct schools (杭教办发展〔2023〕146号 三).
- Bureau staff are reviewers and programme admins of the org; schools are applicants.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from edupilot.orgs.models import OrgKind, Role, path_within
from edupilot.orgs.scoping import Scope

BUREAU_ROLES = (Role.REVIEWER, Role.PROGRAMME_ADMIN)
ADMIN_ONLY = (Role.PROGRAMME_ADMIN,)
# The kinds of bureau that may set up a batch (a school or a zone office may not).
BATCH_OWNER_KINDS = (OrgKind.PROVINCE, OrgKind.CITY, OrgKind.COUNTY, OrgKind.ZONE)
DISTRICT_KINDS = (OrgKind.COUNTY, OrgKind.ZONE)

Decision = tuple[bool, str]
ALLOWED: Decision = (True, "")


def acts_for(scope: Scope | None, org_id: int | None, roles=BUREAU_ROLES) -> bool:
    """Whether the scope acts for ``org_id`` in one of ``roles`` (the system always does)."""
    if scope is None:
        return True
    return (
        scope.is_authenticated
        and org_id is not None
        and scope.org_id == org_id
        and scope.role in {str(r) for r in roles}
    )


def is_bureau(scope: Scope | None) -> bool:
    return scope is None or scope.is_authenticated and scope.role in {str(r) for r in BUREAU_ROLES}


def is_district_of(scope: Scope | None, batch) -> bool:
    """The scope's org is a district (county, zone) inside the batch owner's area."""
    return (
        scope is not None
        and scope.org_kind in DISTRICT_KINDS
        and scope.org_id != batch.owner_id
        and path_within(scope.org_path, batch.owner.path)
    )


# --- batches --------------------------------------------------------------------------------


def can_create_batch(scope: Scope | None, owner) -> Decision:
    """``owner`` is the org the batch belongs to: its programme admins set it up."""
    if not acts_for(scope, owner.pk, ADMIN_ONLY):
        return False, _("只有%(org)s的项目管理员可以设立认定批次") % {"org": owner.name}
    return ALLOWED


def can_manage_batch(scope: Scope | None, batch) -> Decision:
    """Roster, exempting titles, freezing and publishing: the owner's programme admins."""
    if acts_for(scope, batch.owner_id, ADMIN_ONLY):
        return ALLOWED
    return False, _("只有%(org)s的项目管理员可以管理本批次") % {"org": batch.owner.name}


def can_adopt_standard(scope: Scope | None, batch) -> Decision:
    """A district's programme admin chooses the district's own standard for its schools."""
    if scope is None:
        return ALLOWED
    if not is_district_of(scope, batch):
        return False, _("只有本批次各区、县（市）认定单位可以设定本区认定标准")
    if scope.role != Role.PROGRAMME_ADMIN:
        return False, _("只有本单位项目管理员可以设定本区认定标准")
    return ALLOWED


def can_import_data(scope: Scope | None, batch) -> Decision:
    """Bureau staff of the owner or of a district inside it import (and assess) its schools."""
    if scope is None:
        return ALLOWED
    if not is_bureau(scope):
        return False, _("只有教育行政部门的审核人或项目管理员可以导入数据")
    if not path_within(scope.org_path, batch.owner.path):
        return False, _("本批次由%(org)s组织，您所在单位不在其范围内") % {"org": batch.owner.name}
    return ALLOWED


def can_import_titles(scope: Scope | None, plist) -> Decision:
    """The holders of an exempting title: a programme admin of a batch that uses the title."""
    if scope is None:
        return ALLOWED
    from .models import Batch

    owners = Batch.objects.filter(exempt_titles=plist).values_list("owner_id", flat=True)
    if any(acts_for(scope, owner_id, ADMIN_ONLY) for owner_id in owners):
        return ALLOWED
    return False, _("只有使用该称号名单的认定批次的组织单位项目管理员可以导入名单")


# --- standards and data sources ----------------------------------------------------------------


def can_load_standard(scope: Scope | None, standard=None) -> Decision:
    if scope is None or scope.is_programme_admin or scope.is_platform_admin:
        return ALLOWED
    return False, _("只有项目管理员可以载入认定标准")


def can_save_source(scope: Scope | None, owner) -> Decision:
    """A data source (an export format and its mapping) belongs to one bureau."""
    if acts_for(scope, owner.pk):
        return ALLOWED
    return False, _("只有%(org)s的审核人或项目管理员可以维护其数据来源") % {"org": owner.name}


# --- one school --------------------------------------------------------------------------------


def can_decide_entry(scope: Scope | None, entry) -> Decision:
    """Decide, verify, assess one school: only its certifier's bureau staff."""
    if acts_for(scope, entry.certifier_id):
        return ALLOWED
    if entry.certifier_id == entry.batch.owner_id:
        return False, _("%(school)s是市直属学校，由%(org)s认定") % {
            "school": entry.school.name,
            "org": entry.certifier.name,
        }
    return False, _("%(school)s由%(org)s认定，您无权认定") % {
        "school": entry.school.name,
        "org": entry.certifier.name,
    }


def can_assign_visit(scope: Scope | None, entry) -> Decision:
    """The certifier sends a team to verify a school on site."""
    return can_decide_entry(scope, entry)


def can_file_correction(scope: Scope | None, entry) -> Decision:
    """A school files corrections of its own data."""
    if acts_for(scope, entry.school_id, (Role.APPLICANT,)):
        return ALLOWED
    return False, _("只有%(school)s本校账号可以提交数据更正") % {"school": entry.school.name}


def can_self_assess(scope: Scope | None, entry) -> Decision:
    """A school scores itself, with its application to a batch that asks for it."""
    if acts_for(scope, entry.school_id, (Role.APPLICANT,)):
        return ALLOWED
    return False, _("只有%(school)s本校账号可以填报学校自评") % {"school": entry.school.name}


def can_decide_correction(scope: Scope | None, correction) -> Decision:
    return can_decide_entry(scope, correction.entry)


def can_record_finding(scope: Scope | None, visit) -> Decision:
    """The team on the visit, or the certifier's bureau staff."""
    if scope is None:
        return ALLOWED
    if scope.user_id is not None and visit.team.filter(pk=scope.user_id).exists():
        return ALLOWED
    if acts_for(scope, visit.entry.certifier_id):
        return ALLOWED
    return False, _("只有核查组成员或认定单位可以记录核查意见")


def can_complete_visit(scope: Scope | None, visit) -> Decision:
    return can_record_finding(scope, visit)


# --- filing --------------------------------------------------------------------------------------


def can_file_results(scope: Scope | None, batch) -> Decision:
    """A district files its conclusions with the batch owner; the owner files nothing."""
    if scope is None:
        return ALLOWED
    if scope.org_id == batch.owner_id:
        return False, _("市直属学校由市教育局直接认定，无需报备")
    if not is_district_of(scope, batch) or not is_bureau(scope):
        return False, _("只有本批次各区、县（市）认定单位的审核人或项目管理员可以报备")
    return ALLOWED


def can_return_filing(scope: Scope | None, batch) -> Decision:
    """The batch owner's bureau staff may send a district's filing back (退回报备)."""
    if acts_for(scope, batch.owner_id):
        return ALLOWED
    return False, _("只有%(org)s可以退回报备") % {"org": batch.owner.name}
