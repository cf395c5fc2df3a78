"""Every URL and every API operation × role × org (pretix's permission-test pattern).

Two look-alike provinces are built once for the module (tests/builders.py): Henan is "A",
whose objects fill every URL's arguments, Zhejiang is "B". Each row of ``URLS`` / ``API``
says, for one route, what each of four people gets:

- ``anon``: not logged in — sent to the login page (the API answers 401), or 200 for public
  pages;
- ``other``: the same role as ``ok``, but of province B — 404 for A's objects (the scope hides
  them); on a page without an object in its URL, its own page, without a trace of A;
- ``deny``: a role of province A without the permission — 403, or 404 where the app hides
  existence (both are written down per row, as the code does it today), or a redirect with
  a message where a refused action goes back to the page it came from;
- ``ok``: the role that is granted — 200 on GET; a POST-only action answers GET with 405.

POST-only actions are also POSTed by ``anon``, ``other`` and ``deny`` with a body that would
act if permitted: the status must match and nothing may change (no audit event is written —
every change is audited — and the row's probe, where given, reads the same).

Rows are keyed by the route pattern string, not the URL name: a page that moves to another
app under the same path (the selection pages went from ``review:`` to ``selection:`` and
``selection_public:``) keeps its row. A URL
pattern or API operation without a row fails ``test_every_*_has_a_row`` naming it; a row
whose route is gone fails the same test, so the table never rots.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.conf import settings
from django.db import transaction
from django.shortcuts import resolve_url
from django.urls import URLResolver, get_resolver

from edupilot.api.api import api
from edupilot.applications.files import blob_store_bytes
from edupilot.applications.models import Application, Attachment
from edupilot.audit.models import AuditEvent
from edupilot.core.models import Notification
from edupilot.pilots.models import Inspection, Submission
from edupilot.tokens.models import ApiToken
from tests.builders import Province, World, build_world
from tests.evidence import image_bytes

LOGIN = "login"  # 302 to the login page
ROLES = ("anon", "other", "deny", "ok")


@dataclass(frozen=True)
class Case:
    kwargs: Callable[[Province], dict] | None = None  # the URL's arguments, from province A
    ok: str = "applicant"  # the granted role of province A (a key of Province.users)
    ok_status: int = 200
    deny: str | None = None  # a role of province A without the permission, if there is one
    deny_status: int = 403
    anon: int | str = LOGIN
    other: int | None = None  # default: 404 with an object in the URL, else ``ok_status``
    post: Callable[[Province], dict] | None = None  # a POST-only action: the body that would act
    post_only: bool = False
    probe: Callable[[Province], object] | None = None  # must read the same after a refused POST
    cookies: Callable[[Province], dict] | None = None  # what the granted browser holds
    public: bool = False  # no login needed; other provinces see it too
    why: str = ""  # the reason for anything unusual in this row
    xfail: dict = field(default_factory=dict)  # role -> reason (a known defect, strict)

    @property
    def other_status(self) -> int:
        if self.other is not None:
            return self.other
        return 404 if self.kwargs is not None and not self.public else self.ok_status


def pk(attr: str, name: str = "pk"):
    """Arguments ``{name: A.<attr>.pk}``."""
    return lambda a: {name: getattr(a, attr).pk}


def code(attr: str):
    return lambda a: {"code": getattr(a, attr).code}


def nothing(a: Province) -> dict:
    """An empty POST body: the action needs nothing more than its URL."""
    return {}


def first_attachment(app: Application) -> int:
    return app.attachments.order_by("pk").first().pk


def photo_attachment(app: Application) -> int:
    """A photo among the application's files, in its latest version too (the world's files
    are PDF scans; a thumbnail is made only of a photo)."""
    photo = app.attachments.filter(field_key="matrix_photo").first()
    if photo is None:
        blob = blob_store_bytes(image_bytes("png", seed=app.pk % 200), "image/png")
        photo = Attachment.objects.create(
            application=app, field_key="matrix_photo", blob=blob, filename="照片.png"
        )
        version = app.versions.order_by("-number").first()
        if version is not None:
            entry = {"id": photo.pk, "field": "matrix_photo", "filename": photo.filename,
                     "sha256": blob.sha256, "size": blob.size, "content_type": blob.content_type}  # fmt: skip
            version.attachments = [*version.attachments, entry]
            version.save(update_fields=["attachments"])
    return photo.pk


def app_state(attr: str):
    return lambda a: Application.objects.get(pk=getattr(a, attr).pk).state


def sub_state(a: Province) -> str:
    return Submission.objects.get(pk=a.submission.pk).state


def ins_state(a: Province) -> str:
    return Inspection.objects.get(pk=a.inspection.pk).state


def a_token(a: Province) -> dict:
    """An API token of A's county reviewer (made on first use; the test's transaction drops it)."""
    from datetime import timedelta

    from django.utils import timezone

    token, _ = ApiToken.objects.get_or_create(
        token_hash="0" * 64,
        defaults={
            "name": "矩阵令牌",
            "membership": a.memberships["county"],
            "prefix": "edp_matrix",
            "expires_at": timezone.now() + timedelta(days=30),
        },
    )
    return {"pk": token.pk}


def action(kwargs=None, **kw) -> Case:
    """A POST-only action view."""
    return Case(kwargs, post_only=True, **kw)


# --- the pages ----------------------------------------------------------------------------------
URLS: dict[str, Case] = {
    # core
    "": Case(ok_status=302, anon=200, why="sends each role to its desk; visitors see the portal"),
    "healthz": Case(public=True, anon=200),
    "i18n/setlang/": Case(public=True, anon=302, ok_status=302, why="GET just goes back"),
    "jobs/": Case(),
    "jobs/<int:pk>/": Case(pk("job"), ok="admin", deny="province", deny_status=404),
    "jobs/<int:pk>/download": Case(pk("job"), ok="admin", deny="province", deny_status=404),
    "notifications/": Case(),
    "notifications/read": action(
        post=lambda a: {"id": [a.notification.pk]},
        other=302,
        probe=lambda a: Notification.objects.get(pk=a.notification.pk).read_at,
        why="marks the poster's own notifications; another person's ids are ignored",
    ),
    "notifications/<int:pk>/open": Case(
        pk("notification"), ok_status=302, deny="applicant2", deny_status=404
    ),
    # accounts
    "accounts/login/": Case(public=True, anon=200, ok_status=302),
    "accounts/sso/login/": Case(
        public=True, anon=404, ok_status=404, why="SSO is off unless configured (test_sso.py)"
    ),
    "accounts/sso/callback/": Case(
        public=True, anon=404, ok_status=404, why="SSO is off unless configured (test_sso.py)"
    ),
    "accounts/logout/": action(anon=302, post=lambda a: {}, other=302, why="logs out the poster"),
    "accounts/password/": Case(),
    "accounts/membership/": action(
        post=lambda a: {"membership": a.memberships["admin"].pk},
        other=302,
        why="only the poster's own memberships can be chosen",
    ),
    "accounts/provision/": Case(ok="county", deny="applicant"),
    "accounts/users/<int:user_id>/reset/": Case(
        lambda a: {"user_id": a.users["applicant"].pk},
        ok="county",
        deny="applicant",
        deny_status=404,
        post=lambda a: {"reason": "矩阵测试", "password": "pass-Word-123"},
        why="GET: the form asking for a reason and the resetter's own password",
    ),
    "accounts/credentials/<uuid:sheet_id>/": Case(
        lambda a: {"sheet_id": a.sheet_id},
        ok="county",
        deny="city",
        deny_status=404,
        cookies=lambda a: {"edupilot_sheet": a.sheet_key},
        why="a sheet is its creator's alone, even above it",
    ),
    "accounts/credentials/<uuid:sheet_id>/xlsx": Case(
        lambda a: {"sheet_id": a.sheet_id},
        ok="county",
        deny="city",
        deny_status=404,
        cookies=lambda a: {"edupilot_sheet": a.sheet_key},
    ),
    "accounts/credentials/<uuid:sheet_id>/destroy": action(
        lambda a: {"sheet_id": a.sheet_id}, ok="county", deny="city", deny_status=404, post=nothing
    ),
    "accounts/admin-requests/": Case(ok="city", deny="applicant"),
    "accounts/admin-requests/new/": Case(
        ok="city", deny="applicant", other=302, why="B's programme takes no requests: back"
    ),
    "accounts/admin-requests/<int:pk>/": Case(
        pk("admin_request"),
        ok="city",
        deny="county",
        deny_status=404,
        post=lambda a: {"decision": "approve"},
    ),
    # API tokens: each person's own
    "tokens/": Case(ok="county", why="one's own tokens and the form to make one"),
    "tokens/<int:pk>/revoke/": action(
        a_token,
        ok="county",
        deny="city",
        deny_status=404,
        post=nothing,
        probe=lambda a: ApiToken.objects.get(pk=a_token(a)["pk"]).revoked_at,
        why="a token is its owner's alone, even above it",
    ),
    # orgs
    "orgs/": Case(ok="county", deny="expert"),
    "orgs/mine/": Case(ok_status=302),
    "orgs/import/": Case(ok="county", deny="applicant"),
    "orgs/import/template.xlsx": Case(ok="county", deny="applicant"),
    "orgs/units/": Case(ok="admin", deny="county"),
    "orgs/o/<str:code>/": Case(code("school"), ok="county", deny="applicant2", deny_status=404),
    "orgs/o/<str:code>/edit/": Case(
        code("school"),
        deny="applicant2",
        deny_status=404,
        post=lambda a: {"contact_name": "改名"},
        probe=lambda a: type(a.school).objects.get(pk=a.school.pk).contact_name,
    ),
    "orgs/o/<str:code>/move/": action(
        code("school"),
        ok="county",
        deny="applicant2",
        deny_status=404,
        post=lambda a: {"parent": a.city.code},
        probe=lambda a: type(a.school).objects.get(pk=a.school.pk).parent_id,
    ),
    # programmes (programme admins' pages)
    "programmes/": Case(ok="admin", deny="county"),
    "programmes/lists/": Case(ok="admin", deny="county"),
    "programmes/lists/<slug:code>/": Case(code("plist"), ok="admin", deny="county"),
    "programmes/lists/<slug:code>/import/": action(
        code("plist"), ok="admin", deny="county", post=nothing
    ),
    "programmes/<slug:code>/": Case(code("programme"), ok="admin", deny="county"),
    "programmes/<slug:code>/quotas/": Case(code("programme"), ok="admin", deny="county"),
    "programmes/<slug:code>/quotas/<int:pk>/override/": Case(
        lambda a: {"code": a.programme.code, "pk": a.allocation.pk},
        ok="admin",
        deny="city_admin",
        why="a city's admin sees the programme (it holds a quota) but does not manage it",
        post=lambda a: {"value": "99", "reason": "矩阵测试"},
    ),
    # applications
    "applications/": Case(deny="county", deny_status=404),
    "applications/start/": action(
        deny="county",
        deny_status=404,
        other=404,
        why="other: A's programme code is not a programme open to B's school",
        post=lambda a: {"programme": a.programme.code, "category": a.spec.category},
    ),
    "applications/in-scope/": Case(ok="county", deny="applicant", deny_status=404),
    "applications/<int:pk>/": Case(
        pk("waiting"), ok="applicant2", deny="applicant", deny_status=404
    ),
    "applications/<int:pk>/edit/": Case(
        pk("draft"),
        deny="applicant2",
        deny_status=404,
        post=lambda a: {"revision": "0", "action": "save", "f-school_name": "改"},
    ),
    "applications/<int:pk>/autosave/": action(
        pk("draft"),
        deny="applicant2",
        deny_status=404,
        post=lambda a: {"revision": "0", "f-school_name": "改"},
    ),
    "applications/<int:pk>/members/": Case(
        pk("draft"),
        ok_status=404,
        deny="applicant2",
        deny_status=404,
        why="the school category has no member units: the page does not exist for it",
    ),
    "applications/<int:pk>/withdraw/": action(
        pk("waiting"),
        ok="applicant2",
        deny="applicant",
        deny_status=404,
        post=nothing,
        probe=app_state("waiting"),
    ),
    "applications/<int:pk>/versions/<int:number>/": Case(
        lambda a: {"pk": a.waiting.pk, "number": 1},
        ok="applicant2",
        deny="applicant",
        deny_status=404,
    ),
    "applications/<int:pk>/files/<int:attachment_id>/": Case(
        lambda a: {"pk": a.waiting.pk, "attachment_id": first_attachment(a.waiting)},
        ok="applicant2",
        deny="applicant",
        deny_status=404,
    ),
    "applications/<int:pk>/files/<int:attachment_id>/thumb/": Case(
        lambda a: {"pk": a.waiting.pk, "attachment_id": photo_attachment(a.waiting)},
        ok="applicant2",
        deny="applicant",
        deny_status=404,
    ),
    # review (the levels)
    "review/": Case(ok="county", deny="applicant", deny_status=404),
    "review/bulk/": action(
        ok="city",
        deny="applicant",
        deny_status=404,
        post=lambda a: {"sel": [a.waiting.pk], "action": "recommend", "text": "同意"},
        other=404,
        probe=app_state("waiting"),
        why="other: A's ids are outside B's scope: 404 for the whole batch",
    ),
    "review/ranking/": Case(ok="city", deny="applicant", deny_status=404),
    "review/ranking/save/": action(
        ok="city",
        deny="applicant",
        deny_status=404,
        post=lambda a: {
            "programme": a.programme.pk,
            "order": [a.waiting.pk],
            "category": a.spec.category,
            "level": "city",
        },
        other=404,
        why="other: A's programme does not concern B's reviewer (programmes_concerning): 404",
    ),
    "review/<int:pk>/": Case(pk("waiting"), ok="city", deny="expert", deny_status=404),
    "review/<int:pk>/recommend/": action(
        pk("waiting"),
        ok="city",
        deny="county",
        post=lambda a: {"opinion": "同意推荐"},
        probe=app_state("waiting"),
        why="deny: a county reviewer sees it but is not its level (Denied: 403)",
    ),
    "review/<int:pk>/return/": action(
        pk("waiting"),
        ok="city",
        deny="county",
        post=lambda a: {"reasons": "请补充材料"},
        probe=app_state("waiting"),
    ),
    "review/<int:pk>/not-recommend/": action(
        pk("waiting"),
        ok="city",
        deny="county",
        post=lambda a: {"reason": "名额有限"},
        probe=app_state("waiting"),
    ),
    "review/decisions/<int:decision_id>/withdraw/": action(
        pk("decision", "decision_id"), ok="city", deny="county", post=nothing
    ),
    # pilots: the unit, every level above it and the issuer; namespace "pilots:"
    "pilots/": Case(why="each level's own list; empty for a unit without pilots"),
    "pilots/<int:pk>/": Case(pk("pilot"), ok="county", deny="applicant", deny_status=404),
    "pilots/<int:pk>/fill/<slug:stage>/": Case(
        lambda a: {"pk": a.pilot.pk, "stage": "evaluation"},
        ok="pilot_unit",
        ok_status=302,
        deny="county",
        why="the acceptance materials exist already: the unit is sent to them (the blank form "
        "of a stage not saved yet is tested in tests/pilots); supervisors only read",
    ),
    "pilots/submissions/<int:pk>/": Case(
        pk("submission"),
        ok="county",
        deny="applicant",
        deny_status=404,
        post=lambda a: {"f-plan": "改写", "action": "save"},
        probe=lambda a: Submission.objects.get(pk=a.submission.pk).data,
    ),
    "pilots/submissions/<int:pk>/submit/": action(
        pk("submission"), ok="pilot_unit", deny="county", post=nothing, probe=sub_state
    ),
    "pilots/submissions/<int:pk>/accept/": action(
        pk("submission"), ok="county", deny="pilot_unit", post=nothing, probe=sub_state
    ),
    "pilots/submissions/<int:pk>/return/": action(
        pk("submission"),
        ok="county",
        deny="pilot_unit",
        post=lambda a: {"reason": "请补充"},
        probe=sub_state,
    ),
    "pilots/submissions/<int:pk>/files/<int:file>/": Case(
        lambda a: {"pk": a.submission.pk, "file": a.submission_file.pk},
        ok="county",
        deny="applicant",
        deny_status=404,
    ),
    "pilots/completeness/": Case(ok="county", deny="applicant", deny_status=404),
    "pilots/completeness/export/": Case(
        ok="county",
        ok_status=404,
        deny="applicant",
        deny_status=404,
        why="Henan's pilots have no periodic reports: nothing to export",
    ),  # fmt: skip
    # pilots: inspections, acceptance, titles, awards (pilots.views_stages)
    "pilots/<int:pk>/inspections/new/": Case(pk("pilot"), ok="province", deny="unit"),
    "pilots/inspections/<int:pk>/record/": Case(pk("inspection"), ok="province", deny="unit"),
    "pilots/inspections/<int:pk>/respond/": Case(pk("inspection"), ok="unit", deny="county"),
    "pilots/inspections/<int:pk>/close/": Case(pk("inspection"), ok="province", deny="unit"),
    "pilots/evidence/<int:pk>/": Case(
        pk("inspection_evidence"), ok="county", deny="applicant", deny_status=404
    ),
    "pilots/acceptance/<int:pk>/assign/": action(
        pk("acceptance_submission"),
        ok="admin",
        deny="county",
        deny_status=403,
        post=lambda a: {"member": a.assignment.pool_member_id},
        probe=lambda a: a.acceptance_submission.reviews.count(),
        why="another role: 403 with the reason (a refusal about the moment goes back to the page)",
    ),
    "pilots/acceptance/<int:pk>/decide/": action(
        pk("acceptance_submission"),
        ok="admin",
        deny="county",
        deny_status=403,
        post=lambda a: {"grade": "pass"},
        probe=lambda a: Application.objects.get(pk=a.approved.pk).pilot.state,
        why="another role: 403 with the reason (a refusal about the moment goes back to the page)",
    ),
    "pilots/acceptance/reviews/<int:pk>/": Case(
        pk("acceptance_review"), ok="expert", deny="admin", deny_status=404
    ),
    "pilots/<int:pk>/honours/propose/": action(
        pk("pilot"),
        ok="admin",
        deny="county",
        deny_status=403,
        post=lambda a: {"stage": "titles", "title": "demo_school"},
        why="another role: 403 with the reason (a refusal about the moment goes back to the page)",
    ),
    "pilots/<int:pk>/awards/grant/": action(
        pk("pilot"),
        ok="admin",
        deny="county",
        deny_status=403,
        post=lambda a: {"stage": "awards"},
        why="another role: 403 with the reason (a refusal about the moment goes back to the page)",
    ),
    "pilots/programmes/<int:pk>/honours/": Case(
        pk("programme"), ok="admin", deny="province", deny_status=404
    ),
    "pilots/programmes/<int:pk>/honours/announce/": action(
        pk("programme"),
        ok="admin",
        deny="province",
        deny_status=404,
        post=lambda a: {"stage": "titles"},
    ),
    "pilots/programmes/<int:pk>/honours/finalize/": action(
        pk("programme"),
        ok="admin",
        deny="province",
        deny_status=404,
        post=lambda a: {"stage": "titles"},
    ),
    "pilots/honours/<int:pk>/objections/": action(
        pk("honour"),
        ok="admin",
        deny="province",
        deny_status=404,
        post=lambda a: {"text": "异议", "contact": ""},
        probe=lambda a: a.honour.objections.count(),
    ),
    "pilots/honours/objections/<int:pk>/resolve/": action(
        pk("honour_objection"),
        ok="admin",
        deny="province",
        deny_status=404,
        post=lambda a: {"resolution": "不成立"},
        probe=lambda a: type(a.honour_objection).objects.get(pk=a.honour_objection.pk).state,
    ),
    "pilots/honours/<int:pk>/withdraw/": action(
        pk("honour"),
        ok="admin",
        deny="province",
        deny_status=404,
        post=lambda a: {"reason": "异议成立"},
    ),
    "pilots/programmes/<int:pk>/awards.xlsx": Case(
        pk("programme"), ok="admin", deny="province", deny_status=404
    ),
    # selection (the issuer's programme admin; experts): namespace "selection:"
    "review/selection/": Case(
        ok="admin", ok_status=302, deny="county", deny_status=404, why="one programme: to it"
    ),
    "review/selection/<int:programme_pk>/": Case(
        pk("programme", "programme_pk"), ok="admin", deny="city_admin", deny_status=404
    ),
    "review/selection/<int:programme_pk>/decide/": action(
        pk("programme", "programme_pk"),
        ok="admin",
        deny="city_admin",
        deny_status=404,
        post=lambda a: {"application": [a.recommended.pk], "outcome": "approve", "opinion": "同意"},
        probe=lambda a: a.recommended.approval_decisions.count(),
    ),
    "review/selection/<int:programme_pk>/experts/": Case(
        pk("programme", "programme_pk"), ok="admin", deny="city_admin", deny_status=404
    ),
    "review/selection/<int:programme_pk>/auto-assign/": action(
        pk("programme", "programme_pk"),
        ok="admin",
        deny="city_admin",
        deny_status=404,
        post=nothing,
    ),
    "review/selection/<int:programme_pk>/announcements/": Case(
        pk("programme", "programme_pk"), ok="admin", deny="city_admin", deny_status=404
    ),
    "review/selection/applications/<int:pk>/": Case(
        pk("recommended"), ok="admin", deny="city", deny_status=404
    ),
    "review/selection/applications/<int:pk>/assign/": action(
        pk("recommended"),
        ok="admin",
        deny="city",
        deny_status=404,
        post=lambda a: {"member": a.assignment.pool_member_id},
    ),
    "review/selection/applications/<int:pk>/group-opinion/": action(
        pk("recommended"),
        ok="admin",
        deny="city",
        deny_status=404,
        post=lambda a: {"text": "专家组意见", "signed_by": "组长"},
    ),
    "review/selection/assignments/<int:pk>/unassign/": action(
        pk("assignment"), ok="admin", deny="city", deny_status=404, post=nothing
    ),
    "review/selection/decisions/<int:pk>/revoke/": action(
        pk("pending_decision"), ok="admin", deny="city_admin", deny_status=404, post=nothing
    ),
    "review/selection/announcements/<int:pk>/": Case(
        pk("announcement"), ok="admin", deny="city_admin", deny_status=404
    ),
    "review/selection/announcements/<int:pk>/objections/": action(
        pk("announcement"),
        ok="admin",
        deny="city_admin",
        deny_status=404,
        post=lambda a: {"entry": a.announcement.entries.get().pk, "text": "异议"},
    ),
    "review/selection/announcements/<int:pk>/close/": action(
        pk("announcement"), ok="admin", deny="city_admin", deny_status=404, post=nothing
    ),
    "review/selection/objections/<int:pk>/resolve/": action(
        pk("objection"),
        ok="admin",
        deny="city_admin",
        deny_status=404,
        post=lambda a: {"verdict": "dismissed", "resolution": "经核实不成立"},
    ),
    "review/expert/": Case(ok="expert", deny="applicant", deny_status=404),
    "review/expert/<int:pk>/": Case(
        pk("assignment"),
        ok="expert",
        deny="admin",
        deny_status=404,
        post=lambda a: {"action": "save", "comment": "好"},
        why="deny: the issuer's admin does not read an expert's own sheet",
    ),
    "review/expert/<int:pk>/files/<int:attachment_id>/": Case(
        lambda a: {"pk": a.assignment.pk, "attachment_id": first_attachment(a.recommended)},
        ok="expert",
        deny="admin",
        deny_status=404,
    ),
    "review/expert/<int:pk>/files/<int:attachment_id>/thumb/": Case(
        lambda a: {"pk": a.assignment.pk, "attachment_id": photo_attachment(a.recommended)},
        ok="expert",
        deny="admin",
        deny_status=404,
    ),
    # certification
    "certification/": Case(ok="city_admin"),
    "certification/batches/new/": Case(ok="city_admin", deny="city"),
    "certification/batches/<int:pk>/": Case(
        pk("batch"), ok="city_admin", deny="expert", deny_status=404
    ),
    "certification/batches/<int:pk>/entries/": Case(
        pk("batch"), ok="city_admin", deny="applicant", deny_status=404
    ),
    "certification/batches/<int:pk>/entries/decide/": action(
        pk("batch"),
        ok="county",
        deny="city",
        deny_status=302,
        post=lambda a: {"sel": [a.entry.pk], "decision": "certified", "opinion": "同意"},
        probe=lambda a: type(a.entry).objects.get(pk=a.entry.pk).decision,
        why="decided per school: one the poster may not decide is named on the list, unchanged",
    ),
    "certification/batches/<int:pk>/assess/": action(
        pk("batch"), ok="city_admin", deny="province", post=nothing
    ),
    "certification/batches/<int:pk>/export/": action(
        pk("batch"), ok="city_admin", deny="applicant", deny_status=404, post=nothing
    ),
    "certification/batches/<int:pk>/freeze/": action(
        pk("batch"), ok="city_admin", deny="city", post=nothing
    ),
    "certification/batches/<int:pk>/publish/": action(
        pk("batch"), ok="city_admin", deny="city", post=nothing
    ),
    "certification/batches/<int:pk>/sync/": action(
        pk("batch"), ok="city_admin", deny="city", post=nothing
    ),
    "certification/batches/<int:pk>/standard/": action(
        pk("batch"),
        ok="city_admin",
        deny="applicant",
        post=lambda a: {"standard": a.batch.standard_id},
    ),
    "certification/batches/<int:pk>/titles/<int:list_pk>/": action(
        lambda a: {"pk": a.batch.pk, "list_pk": a.plist.pk},
        ok="city_admin",
        deny="applicant",
        deny_status=404,
        post=nothing,
    ),
    "certification/batches/<int:pk>/imports/": Case(
        pk("batch"), ok="city_admin", deny="applicant", deny_status=404
    ),
    "certification/batches/<int:pk>/filing/": Case(
        pk("batch"), ok="city_admin", deny="applicant", deny_status=404
    ),
    "certification/imports/<int:pk>/": Case(
        pk("import_run"), ok="city_admin", deny="county", deny_status=404
    ),
    "certification/sources/": Case(ok="city_admin", deny="applicant", deny_status=404),
    "certification/sources/new/": Case(ok="city_admin", deny="applicant", deny_status=404),
    "certification/sources/<int:pk>/": Case(
        pk("source"),
        ok="city_admin",
        deny="province",
        deny_status=404,
        why="a source is seen by its owner and the bureaus below it (they import with it)",
        post=lambda a: {"code": "x", "name": "改"},
    ),
    "certification/standards/": Case(ok="city_admin", deny="applicant", deny_status=404),
    "certification/standards/<int:pk>/": Case(
        lambda a: {"pk": a.batch.standard_id},
        ok="city_admin",
        deny="applicant",
        deny_status=404,
        other=200,
        why="standards are a shared catalogue, not an org's data",
    ),
    "certification/entries/<int:pk>/": Case(pk("entry"), deny="applicant2", deny_status=404),
    "certification/entries/<int:pk>/decide/": action(
        pk("entry"),
        ok="county",
        deny="city",
        post=lambda a: {"decision": "certified", "opinion": "同意"},
    ),
    "certification/entries/<int:pk>/visit/": action(
        pk("entry"), ok="county", deny="city", post=lambda a: {"team_note": "核查组"}
    ),
    "certification/entries/<int:pk>/correction/": action(
        pk("entry"), deny="county", post=lambda a: {"indicator": "ZJ-03", "reason": "更正"}
    ),
    "certification/entries/<int:pk>/self-assessment/": Case(
        pk("entry"),
        deny="county",
        why="the school's own form (the batch asks for none here: the page says so); bureaus "
        "see the self-scores on the school's page",
    ),
    "certification/entries/<int:pk>/certificate.pdf": Case(
        pk("entry"),
        ok_status=404,
        deny="applicant2",
        deny_status=404,
        why="no certificate before a certified decision is published",
    ),
    "certification/entries/<int:pk>/report.<str:fmt>": Case(
        lambda a: {"pk": a.entry.pk, "fmt": "pdf"}, deny="applicant2", deny_status=404
    ),
    "certification/visits/": Case(ok="county"),
    "certification/visits/<int:pk>/finding/": action(
        pk("visit"),
        ok="county",
        deny="city",
        post=lambda a: {"indicator": ["ZJ-02"], "met": "1", "observed": "属实"},
    ),
    "certification/visits/<int:pk>/complete/": action(
        pk("visit"), ok="county", deny="city", post=lambda a: {"summary": "核查完成"}
    ),
    "certification/corrections/<int:pk>/decide/": action(
        pk("correction"),
        ok="county",
        deny="city",
        post=lambda a: {"accept": "1", "response": "同意"},
    ),
    "certification/evidence/<int:pk>/": Case(pk("evidence"), deny="applicant2", deny_status=404),
    # documents
    "documents/": Case(ok="county", deny="applicant", deny_status=404),
    "documents/programmes/<slug:code>/summary/<slug:key>/": Case(
        lambda a: {"code": a.programme.code, "key": a.programme.parsed.summary_tables[0].key},
        ok="city",
        deny="applicant",
        deny_status=404,
    ),
    "documents/programmes/<slug:code>/quotas.xlsx": Case(
        code("programme"),
        ok="city",
        deny="county",
        deny_status=404,
        why="deny: Henan's quotas are held by cities; a county has no quota table",
    ),
    "documents/programmes/<slug:code>/forms.zip": action(
        code("programme"), ok="city", deny="applicant", deny_status=404, post=nothing
    ),
    "documents/applications/<int:pk>/form.pdf": Case(
        pk("waiting"), ok="applicant2", deny="applicant", deny_status=404
    ),
    "documents/pilots/submissions/<int:pk>.pdf": Case(
        pk("submission"), ok="county", deny="applicant", deny_status=404
    ),
    "documents/pilots/programmes/<int:pk>/awards/<slug:stage>.pdf": Case(
        lambda a: {"pk": a.programme.pk, "stage": "awards"},
        ok="admin",
        ok_status=404,
        deny="province",
        deny_status=404,
        why="Henan's pilot period has no awards stage (a Quanzhou decision is tested in "
        "tests/pilots/test_honours.py); only the issuer's programme admins reach it",
    ),
    "documents/pilots/programmes/<int:pk>/acceptance.xlsx": Case(
        pk("programme"), ok="admin", deny="province", deny_status=404
    ),
    "documents/announcements/<int:pk>.pdf": Case(
        pk("announcement"),
        public=True,
        anon=202,
        ok_status=202,
        why="a published 公示 is public; not yet rendered here: the page that waits for it",
    ),
    # dashboards: a region's, by its children; reviewers of a region and above it
    "dashboards/": Case(
        ok="province", deny="applicant", why="a school has no dashboard (403, with the reason)"
    ),
    "dashboards/<str:code>/": Case(
        code("city"), ok="province", deny="county", deny_status=404, why="not above one's region"
    ),
    "dashboards/<str:code>/<slug:table>.xlsx": Case(
        lambda a: {"code": a.city.code, "table": "progress"},
        ok="province",
        deny="county",
        deny_status=404,
    ),
    # public pages (no login)
    "public/pilots/": Case(public=True, anon=200),
    "public/": Case(public=True, anon=200),
    "public/calls/": Case(public=True, anon=200),
    "public/calls/<slug:code>/": Case(code("programme"), public=True, anon=200),
    "public/calls/<slug:code>/files/<str:role>/<int:position>/": Case(
        lambda a: {"code": a.programme.code, "role": "attachment", "position": 0},
        public=True,
        anon=200,
    ),
    "public/announcements/": Case(public=True, anon=200),
    "public/announcements/<int:pk>/": Case(pk("announcement"), public=True, anon=200),
    "public/certified/": Case(public=True, anon=200),
    "public/certified/<slug:code>/": Case(
        code("batch"), public=True, anon=404, ok_status=404, why="a batch not yet published"
    ),
    # the API's own pages (its operations are in API below)
    "api/v1/": Case(ok_status=404, anon=404, public=True, why="no page at the API root"),
    "api/v1/openapi.json": Case(anon=200, why="the schema describes the API, holds no data"),
    "api/v1/docs": Case(anon=200),
}


# --- the API operations (django-ninja), keyed "METHOD path" as in the OpenAPI schema -----------
def api_case(kwargs=None, **kw) -> Case:
    kw.setdefault("anon", 401)
    return Case(kwargs, **kw)


API: dict[str, Case] = {
    "GET /api/v1/orgs/": api_case(ok="county"),
    "GET /api/v1/orgs/{code}": api_case(
        code("school"), ok="county", deny="applicant2", deny_status=404
    ),
    "GET /api/v1/programmes/": api_case(),
    "GET /api/v1/programmes/{code}": api_case(
        code("programme"),
        deny="county",
        deny_status=404,
        why="deny: a county bureau holds no Henan quota: the programme is not its business",
    ),
    "GET /api/v1/programmes/{code}/eligibility": api_case(
        code("programme"), deny="city", deny_status=404
    ),
    "GET /api/v1/programmes/{code}/quotas": api_case(
        code("programme"), ok="city", deny="applicant", deny_status=404
    ),
    "GET /api/v1/applications/": api_case(),
    "GET /api/v1/applications/{pk}": api_case(pk("draft"), deny="applicant2", deny_status=404),
    "PUT /api/v1/applications/{pk}/draft": api_case(
        kwargs=pk("draft"),
        post_only=True,
        deny="applicant2",
        deny_status=404,
        post=lambda a: {"revision": a.draft.revision, "data": {"school_name": "改"}},
    ),
    "POST /api/v1/applications/{pk}/submit": api_case(
        kwargs=pk("draft"), post_only=True, deny="applicant2", deny_status=404, post=nothing
    ),
    "GET /api/v1/review/queue": api_case(ok="county", deny="applicant", deny_status=404),
    "POST /api/v1/review/{pk}/recommend": api_case(
        kwargs=pk("waiting"),
        post_only=True,
        ok="city",
        deny="county",
        post=lambda a: {"opinion": "同意"},
        probe=app_state("waiting"),
    ),
    "POST /api/v1/review/{pk}/return": api_case(
        kwargs=pk("waiting"),
        post_only=True,
        ok="city",
        deny="county",
        post=lambda a: {"reasons": "补充"},
        probe=app_state("waiting"),
    ),
    "POST /api/v1/review/{pk}/not-recommend": api_case(
        kwargs=pk("waiting"),
        post_only=True,
        ok="city",
        deny="county",
        post=lambda a: {"reasons": "名额"},
        probe=app_state("waiting"),
    ),
    "GET /api/v1/certification/batches": api_case(ok="city_admin"),
    "GET /api/v1/certification/batches/{pk}": api_case(
        pk("batch"), ok="city_admin", deny="expert", deny_status=404
    ),
    "GET /api/v1/certification/batches/{pk}/entries": api_case(
        pk("batch"), ok="city_admin", deny="expert", deny_status=404
    ),
    "GET /api/v1/certification/entries/{pk}": api_case(
        pk("entry"), deny="applicant2", deny_status=404
    ),
    "GET /api/v1/certification/entries/{pk}/self-assessment": api_case(
        pk("entry"), deny="applicant2", deny_status=404
    ),
    # pilots (edupilot.pilots.api): the pages' scope; writes refused for who acts are 403 (with
    # the reason), refusals about the moment 400
    "GET /api/v1/pilots/": api_case(ok="county"),
    "GET /api/v1/pilots/{pk}": api_case(
        pk("pilot"), ok="county", deny="applicant", deny_status=404
    ),
    "GET /api/v1/pilots/{pk}/submissions": api_case(
        pk("pilot"), ok="county", deny="applicant", deny_status=404
    ),
    "GET /api/v1/pilots/submissions/{pk}": api_case(
        pk("submission"), ok="pilot_unit", deny="applicant", deny_status=404
    ),
    "PUT /api/v1/pilots/{pk}/drafts/{stage}": api_case(
        kwargs=lambda a: {"pk": a.pilot.pk, "stage": "plan"},
        post_only=True,
        ok="pilot_unit",
        deny="county",
        post=lambda a: {"revision": a.submission.revision, "data": {"plan": "改写"}},
        probe=lambda a: Submission.objects.get(pk=a.submission.pk).data,
    ),
    "POST /api/v1/pilots/submissions/{pk}/submit": api_case(
        kwargs=pk("submission"),
        post_only=True,
        ok="pilot_unit",
        deny="county",
        post=nothing,
        probe=sub_state,
    ),  # fmt: skip
    "POST /api/v1/pilots/submissions/{pk}/accept": api_case(
        kwargs=pk("submission"),
        post_only=True,
        ok="county",
        deny="pilot_unit",
        post=lambda a: {"reason": "同意"},
        probe=sub_state,
    ),  # fmt: skip
    "POST /api/v1/pilots/submissions/{pk}/return": api_case(
        kwargs=pk("submission"),
        post_only=True,
        ok="county",
        deny="pilot_unit",
        post=lambda a: {"reason": "请补充"},
        probe=sub_state,
    ),  # fmt: skip
    "GET /api/v1/pilots/{pk}/inspections": api_case(
        pk("pilot"), ok="county", deny="applicant", deny_status=404
    ),
    "POST /api/v1/pilots/{pk}/inspections/schedule": api_case(
        kwargs=pk("pilot"),
        post_only=True,
        ok="province",
        deny="unit",
        post=lambda a: {"mode": "site", "scheduled_for": "2099-02-01", "team": "检查组"},
        probe=lambda a: a.pilot.inspections.count(),
    ),  # fmt: skip
    "POST /api/v1/pilots/inspections/{pk}/record": api_case(
        kwargs=pk("inspection"),
        post_only=True,
        ok="province",
        deny="unit",
        post=lambda a: {"findings": "良好"},
        probe=ins_state,
    ),  # fmt: skip
    "POST /api/v1/pilots/inspections/{pk}/respond": api_case(
        kwargs=pk("inspection"),
        post_only=True,
        ok="unit",
        deny="county",
        post=lambda a: {"response": "已整改"},
        probe=ins_state,
    ),  # fmt: skip
    "POST /api/v1/pilots/inspections/{pk}/close": api_case(
        kwargs=pk("inspection"),
        post_only=True,
        ok="province",
        deny="unit",
        post=lambda a: {"conclusion": "整改到位"},
        probe=ins_state,
    ),  # fmt: skip
    "GET /api/v1/pilots/acceptance/{pk}": api_case(
        pk("acceptance_submission"), ok="admin", deny="applicant", deny_status=404
    ),
    "POST /api/v1/pilots/acceptance/{pk}/decide": api_case(
        kwargs=pk("acceptance_submission"),
        post_only=True,
        ok="admin",
        deny="county",
        post=lambda a: {"grade": "pass"},
        probe=lambda a: Application.objects.get(pk=a.approved.pk).pilot.state,
    ),  # fmt: skip
}

# The Django admin site: no role of the app is staff, so every page sends everyone to the
# admin's own login; the login page itself answers. A model registered later falls under it.
ADMIN_PREFIX = "django-admin/"
ADMIN_ANSWERS = {
    "django-admin/login/": (200, ""),
    "django-admin/logout/": (302, "/django-admin/"),  # only POST logs out; GET goes back
}


# --- walking what exists ---------------------------------------------------------------------------
def url_routes() -> list[str]:
    def walk(patterns, prefix=""):
        for p in patterns:
            if isinstance(p, URLResolver):
                yield from walk(p.url_patterns, prefix + str(p.pattern))
            else:
                yield prefix + str(p.pattern)

    return list(walk(get_resolver().url_patterns))


def api_operations() -> dict[str, str]:
    """ "METHOD /api/v1/path" -> its path, from the OpenAPI schema."""
    out = {}
    for path, ops in api.get_openapi_schema()["paths"].items():
        for method in ops:
            out[f"{method.upper()} {path}"] = path
    return out


def as_openapi_path(route: str) -> str:
    """The resolver's "api/v1/orgs/<code>" as the schema's "/api/v1/orgs/{code}"."""
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)


def test_every_url_pattern_has_a_row():
    api_paths = set(api_operations().values())  # their rows are in API, by method
    routes = [
        r
        for r in url_routes()
        if not r.startswith(ADMIN_PREFIX) and as_openapi_path(r) not in api_paths
    ]
    missing = [r for r in routes if r not in URLS]
    assert not missing, "\n".join(f"new URL {r!r} has no entry in the matrix" for r in missing)
    stale = sorted(set(URLS) - set(routes))
    assert not stale, f"rows for URLs that no longer exist: {stale}"


def test_every_api_operation_has_a_row():
    ops = api_operations()
    missing = [op for op in ops if op not in API]
    assert not missing, "\n".join(f"new API operation {op!r} has no entry" for op in missing)
    stale = sorted(set(API) - set(ops))
    assert not stale, f"rows for API operations that no longer exist: {stale}"


# --- the world, built once for the module ---------------------------------------------------------
@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """Both provinces, in a transaction held open for the module; each test rolls back to it."""
    from tests.conftest import seed_database

    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            from edupilot.orgs.models import Org

            if not Org.objects.filter(code="410000").exists():
                seed_database()
            yield build_world()
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


def _url(route: str, case: Case, a: Province) -> str:
    kw = case.kwargs(a) if case.kwargs else {}
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(kw[m.group(1)]), route)


def _api_url(op: str, case: Case, a: Province) -> tuple[str, str]:
    method, path = op.split(" ", 1)
    kw = case.kwargs(a) if case.kwargs else {}
    return method.lower(), re.sub(r"\{(\w+)\}", lambda m: str(kw[m.group(1)]), path)


def _user(world: World, case: Case, role: str):
    if role == "anon":
        return None
    if role == "other":
        return world.b.users[case.ok]
    return world.a.users[case.deny if role == "deny" else case.ok]


def _expected(case: Case, role: str):
    return {
        "anon": case.anon,
        "other": case.other_status,
        "deny": case.deny_status,
        "ok": 405 if case.post_only else case.ok_status,
    }[role]


def _check_status(response, expected, what: str) -> None:
    if expected == LOGIN:
        assert response.status_code == 302, f"{what}: {response.status_code}, not sent to login"
        assert response["Location"].startswith(resolve_url(settings.LOGIN_URL)), (
            f"{what}: redirected to {response['Location']}, not to the login page"
        )
    else:
        assert response.status_code == expected, (
            f"{what}: {response.status_code}, expected {expected}"
        )


A_MARKERS = ("矩阵A",)  # every school, application and batch of province A carries it


def _check_no_trace_of_a(response, what: str, a: Province) -> None:
    if response.status_code != 200 or response.get("Content-Type", "").startswith(
        ("application/pdf", "application/vnd", "application/zip")
    ):
        return
    body = response.content.decode("utf-8", "replace")
    if "json" in response.get("Content-Type", ""):
        body = json.dumps(response.json(), ensure_ascii=False)
    for marker in (*A_MARKERS, a.programme.code):
        assert marker not in body, f"{what}: province B sees {marker!r} of province A"


def _request(client, method: str, url: str, body, *, api_call: bool):
    if method == "get":
        return client.get(url)
    if api_call:
        return getattr(client, method)(url, json.dumps(body), content_type="application/json")
    return client.post(url, body)


def _run(client, world: World, key: str, case: Case, role: str, *, api_call: bool, op=None):
    a = world.a
    if api_call:
        method, url = _api_url(op, case, a)
    else:
        method, url = "get", _url(key, case, a)
    user = _user(world, case, role)
    if user is not None:
        client.force_login(user)
    if role == "ok" and case.cookies:
        for name, value in case.cookies(a).items():
            client.cookies[name] = value
    what = f"{method.upper()} {url} as {role} ({key})"
    expected = _expected(case, role)
    if case.post_only and role != "ok":
        method = method if method != "get" else "post"
        before = (AuditEvent.objects.count(), case.probe(a) if case.probe else None)
        response = _request(client, method, url, case.post(a), api_call=api_call)
        _check_status(response, expected, what.replace("GET", method.upper(), 1))
        after = (AuditEvent.objects.count(), case.probe(a) if case.probe else None)
        assert before == after, f"{what}: a refused POST changed something"
        return
    if case.post_only:
        method = "get"  # the granted role: an action answers GET with 405
    response = _request(client, method, url, None, api_call=api_call)
    _check_status(response, expected, what)
    if role == "other" and case.kwargs is None and not case.public:
        _check_no_trace_of_a(response, what, a)


def _params(table: dict[str, Case]):
    out = []
    for key, case in table.items():
        for role in ROLES:
            if role == "deny" and case.deny is None:
                continue
            marks = []
            if role in case.xfail:
                marks.append(pytest.mark.xfail(strict=True, reason=case.xfail[role]))
            out.append(pytest.param(key, role, id=f"{key or '/'}-{role}", marks=marks))
    return out


def _other_post_params():
    return [
        pytest.param(key, id=f"{key}-other-post")
        for key, case in URLS.items()
        if case.post is not None and not case.post_only
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("route, role", _params(URLS))
def test_url_matrix(client, world, route, role):
    _run(client, world, route, URLS[route], role, api_call=False)


@pytest.mark.django_db
@pytest.mark.parametrize("route", _other_post_params())
def test_other_province_cannot_post_to_a_page(client, world, route):
    """Pages that also take a POST: province B's POST on A's object is 404 and changes nothing."""
    case, a = URLS[route], world.a
    client.force_login(world.b.users[case.ok])
    before = (AuditEvent.objects.count(), case.probe(a) if case.probe else None)
    response = client.post(_url(route, case, a), case.post(a))
    assert response.status_code == 404, f"POST {route} as other: {response.status_code}"
    assert before == (AuditEvent.objects.count(), case.probe(a) if case.probe else None)


@pytest.mark.django_db
@pytest.mark.parametrize("op, role", _params(API))
def test_api_matrix(client, world, op, role):
    _run(client, world, op, API[op], role, api_call=True, op=op)


def _admin_url(route: str) -> str:
    fill = {"object_id": "1", "content_type_id": "1", "app_label": "auth", "url": "nothing"}
    route = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: fill[m.group(1)], route)
    route = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: fill[m.group(1)], route)
    return "/" + route.lstrip("^").rstrip("$").replace("^", "")


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["anon", "platform"])
def test_admin_site_is_staff_only(client, world, who):
    """Every admin page, for anonymous and for the most powerful role of the app (not staff)."""
    if who == "platform":
        client.force_login(world.platform)
    routes = [r for r in url_routes() if r.startswith(ADMIN_PREFIX)]
    assert routes
    for route in routes:
        url = _admin_url(route)
        response = client.get(url)
        status, location = ADMIN_ANSWERS.get(route, (302, "/django-admin/login/"))
        assert response.status_code == status, f"{url} as {who}: {response.status_code}"
        if location:
            assert response["Location"].startswith(location), f"{url}: {response['Location']}"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "route, role",
    [
        ("applications/in-scope/", "county"),
        ("review/", "city"),
        ("certification/", "city_admin"),
        ("public/announcements/", "applicant"),
        ("GET /api/v1/orgs/", "county"),
    ],
)
def test_the_markers_are_seen_where_they_belong(client, world, route, role):
    """A's own people see A's markers on these pages: their absence for B means something."""
    client.force_login(world.a.users[role])
    url = route.split(" ", 1)[1] if route.startswith("GET ") else "/" + route
    if route.startswith("GET "):
        url += "?q=矩阵&limit=500"
    body = client.get(url).content.decode()
    assert "矩阵A" in body or "\\u77e9\\u9635A" in body
