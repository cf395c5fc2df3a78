"""Permission predicates of the pilot period: ``can_<verb>_<thing>(scope, obj) -> (ok, reason)``.

The transition tables (``workflows.py``) name them; pages grey buttons out with the reason and
the services refuse with the same predicates.
"""

from __future__ import annotations

from edupilot.orgs.models import Role, path_within

Result = tuple[bool, str]
OK: Result = (True, "")


# --- stages -------------------------------------------------------------------------------------
# Inspections, acceptance, titles and awards (pilots.inspections / acceptance / honours).


def is_issuer_admin(scope, programme) -> Result:
    if scope.role == Role.PROGRAMME_ADMIN and scope.org_id == programme.issuer_id:
        return OK
    return False, f"只有发文单位（{programme.issuer.name}）的项目管理员可以办理。"


def is_pilot_unit(scope, pilot) -> Result:
    if scope.role == Role.APPLICANT and scope.org_id == pilot.unit_id:
        return OK
    return False, f"只有试点单位（{pilot.unit.name}）可以办理。"


def is_inspector(scope, pilot) -> Result:
    """The pilot's inspection stage lets its supervisor (or an org above it up to the issuer)
    and/or the issuer inspect; reviewers and programme admins of those orgs act."""
    stage = pilot.spec.stage_of("inspection") if pilot.spec else None
    by = stage.by if stage else ("supervisor", "issuer")
    if scope.role not in (Role.REVIEWER, Role.PROGRAMME_ADMIN) or not scope.org_path:
        return False, "只有督导单位或发文单位的审核人、项目管理员可以检查。"
    issuer = pilot.programme.issuer
    if "issuer" in by and scope.org_id == issuer.pk:
        return OK
    if (
        "supervisor" in by
        and path_within(pilot.supervisor.path, scope.org_path)
        and path_within(scope.org_path, issuer.path)
    ):
        return OK
    who = "、".join({"supervisor": "督导单位（及其上级）", "issuer": "发文单位"}[b] for b in by)
    return False, f"只有{who}可以安排和办理检查。"


def can_schedule_inspection(scope, pilot) -> Result:
    if pilot.is_closed:
        return False, f"试点已结束（{pilot.get_state_display()}），不再安排检查。"
    if pilot.spec is None or pilot.spec.stage_of("inspection") is None:
        return False, "本项目的试点期没有检查环节。"
    return is_inspector(scope, pilot)


def can_record_inspection(scope, inspection) -> Result:
    return is_inspector(scope, inspection.pilot)


def can_respond_inspection(scope, inspection) -> Result:
    return is_pilot_unit(scope, inspection.pilot)


def can_close_inspection(scope, inspection) -> Result:
    return is_inspector(scope, inspection.pilot)


def can_assign_acceptance_expert(scope, submission) -> Result:
    ok, reason = is_issuer_admin(scope, submission.pilot.programme)
    if not ok:
        return ok, reason
    if submission.state != "submitted":
        return False, "验收材料提交后才能分配专家。"
    return OK


def can_score_acceptance(scope, review) -> Result:
    if scope.role != Role.EXPERT or scope.user_id != review.expert_id:
        return False, "只有被分配的专家本人可以评分。"
    if not review.is_active:
        return False, "该评审任务已取消。"
    if review.submitted_at is not None:
        return False, "评分已提交，不能再修改。"
    if review.submission.state != "submitted":
        return False, "验收材料不在评审中。"
    return OK


def can_decide_acceptance(scope, submission) -> Result:
    ok, reason = is_issuer_admin(scope, submission.pilot.programme)
    if not ok:
        return ok, reason
    if submission.state != "submitted" or submission.pilot.state != "acceptance":
        return False, "试点不在验收中，不能评定等级。"
    stage = submission.pilot.spec.stage(submission.stage)
    done = sum(1 for r in submission.reviews.all() if r.is_active and r.submitted_at)
    if stage is not None and done < stage.min_scores:
        return False, f"至少 {stage.min_scores} 位专家提交评分后才能评定（已提交 {done} 位）。"
    return OK


def can_manage_honours(scope, programme) -> Result:
    return is_issuer_admin(scope, programme)


def can_grant_award(scope, pilot) -> Result:
    ok, reason = is_issuer_admin(scope, pilot.programme)
    if not ok:
        return ok, reason
    if pilot.state != "accepted":
        return False, "只有通过验收的试点可以奖补。"
    return OK
