"""Who may do what in certification: named predicates returning (allowed, reason).

The reason is what the screen shows. Services call the same predicates, so a refused
action is refused whether it comes from a page, the API or a script.

- The batch owner (a city) runs the batch: roster, titles, freezing, publishing.
- Each school is certified by its certifier: the district (county or functional zone)
  it sits under, or the batch owner for city-direct schools (杭教办发展〔2023〕146号 三).
- Bureau staff are reviewers and programme admins of the org; schools are applicants.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from edupilot.audit.services import Actor
from edupilot.orgs.models import Membership, Org, Role

BUREAU_ROLES = (Role.REVIEWER, Role.PROGRAMME_ADMIN)


def actor_roles(actor: Actor, org: Org | None = None) -> set[str]:
    """The roles the actor's user holds at ``org`` (default: the org it acts for)."""
    org = org or actor.org
    if actor.user is None or org is None or getattr(actor.user, "pk", None) is None:
        return set()
    return set(
        Membership.objects.filter(user=actor.user, org=org, is_active=True).values_list(
            "role", flat=True
        )
    )


def acts_for(actor: Actor, org: Org, roles=BUREAU_ROLES) -> bool:
    return (
        actor.org is not None
        and actor.org.pk == org.pk
        and bool(actor_roles(actor, org) & {str(r) for r in roles})
    )


def can_run_batch(actor: Actor, batch) -> tuple[bool, str]:
    if acts_for(actor, batch.owner, (Role.PROGRAMME_ADMIN,)):
        return True, ""
    return False, _("只有%(org)s的项目管理员可以管理本批次") % {"org": batch.owner.name}


def can_certify(actor: Actor, entry) -> tuple[bool, str]:
    """Decide, verify, assess one school: only its certifier's bureau staff."""
    if acts_for(actor, entry.certifier):
        return True, ""
    if entry.certifier_id == entry.batch.owner_id:
        return False, _("%(school)s是市直属学校，由%(org)s认定") % {
            "school": entry.school.name,
            "org": entry.certifier.name,
        }
    return False, _("%(school)s由%(org)s认定，您无权认定") % {
        "school": entry.school.name,
        "org": entry.certifier.name,
    }


def can_import(actor: Actor, batch) -> tuple[bool, str]:
    """Bureau staff of the owner or of a district inside it may import data for its schools."""
    org = actor.org
    if org is None or not (actor_roles(actor) & {str(r) for r in BUREAU_ROLES}):
        return False, _("只有教育行政部门的审核人或项目管理员可以导入数据")
    if not org.path.startswith(batch.owner.path):
        return False, _("本批次由%(org)s组织，您所在单位不在其范围内") % {"org": batch.owner.name}
    return True, ""


def can_file(actor: Actor, batch, org: Org) -> tuple[bool, str]:
    if org.pk == batch.owner_id:
        return False, _("市直属学校由市教育局直接认定，无需报备")
    if not acts_for(actor, org):
        return False, _("只有%(org)s的审核人或项目管理员可以报备") % {"org": org.name}
    return True, ""


def can_return_filing(actor: Actor, batch) -> tuple[bool, str]:
    """The batch owner's bureau staff may send a district's filing back (退回报备)."""
    if acts_for(actor, batch.owner):
        return True, ""
    return False, _("只有%(org)s可以退回报备") % {"org": batch.owner.name}


def can_correct(actor: Actor, entry) -> tuple[bool, str]:
    """A school files corrections of its own data."""
    if acts_for(actor, entry.school, (Role.APPLICANT,)):
        return True, ""
    return False, _("只有%(school)s本校账号可以提交数据更正") % {"school": entry.school.name}


def can_record_finding(actor: Actor, visit) -> tuple[bool, str]:
    user_id = getattr(actor.user, "pk", None)
    if user_id is not None and visit.team.filter(pk=user_id).exists():
        return True, ""
    if acts_for(actor, visit.entry.certifier):
        return True, ""
    return False, _("只有核查组成员或认定单位可以记录核查意见")
