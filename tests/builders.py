"""Builders of whole worlds for cross-cutting tests (the URL × role × org matrix).

``build_province`` gives one province the same shape whatever its region: province → city →
county → schools, the province's own programme (the real file, open today), applications
in every state a page acts on (draft, waiting at the first level, recommended by it,
awaiting the issuer with an expert assigned, approved on a published announcement with an
objection, approved pending publication), a certification batch owned by the city with an
import, a correction, a site visit and its evidence, and a user for every role. Two such
provinces side by side are the look-alikes a scope leak shows up between.

Everything goes through the real services, as the people would do it, except where a test
helper already stands for a long path (``to_issuer``: the last recommendation of a chain).
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field
from types import SimpleNamespace

from edupilot.accounts import credentials
from edupilot.accounts import services as account_services
from edupilot.accounts.models import AdminAccountRequest, User
from edupilot.applications import services as app_services
from edupilot.applications.files import blob_store_bytes
from edupilot.applications.models import Application
from edupilot.audit.services import Actor
from edupilot.certification import services as cert
from edupilot.certification.models import (
    Batch,
    Correction,
    DataSource,
    Entry,
    Evidence,
    ImportRun,
    SiteVisit,
    Standard,
)
from edupilot.core.jobs import JobResult, job_run, job_start, register_job
from edupilot.core.models import Job, Notification
from edupilot.core.notifications import notify
from edupilot.orgs.models import Membership, Org, Role
from edupilot.orgs.scoping import Scope
from edupilot.pilots import services as pilot_services
from edupilot.pilots.acceptance import acceptance_assign
from edupilot.pilots.creation import pilots_create
from edupilot.pilots.models import (
    AcceptanceReview,
    Honour,
    HonourObjection,
    Inspection,
    InspectionEvidence,
    InspectionState,
    Pilot,
    Submission,
    SubmissionAttachment,
    SubmissionState,
)
from edupilot.programmes.models import ParticipantList, Programme, QuotaAllocation
from edupilot.review import services as review
from edupilot.review.models import ReviewDecision
from edupilot.selection import announcements as ann
from edupilot.selection import approval, experts
from edupilot.selection.models import (
    Announcement,
    ApprovalDecision,
    ExpertAssignment,
    Objection,
)
from tests.applications.conftest import Who
from tests.certification.conftest import GOOD, export_rows, load_standards
from tests.conftest import make_school, make_user, pdf_bytes
from tests.review.conftest import load, submit_as
from tests.selection.test_experts_support import to_issuer

_n = itertools.count(1)


@register_job("tests.matrix_echo")
def _echo(job, report) -> JobResult:
    """A job with a result to download, run in the test's own thread."""
    report(1, 1, "完成")
    return JobResult("矩阵.txt", "text/plain", content="矩阵测试".encode())


ROLE_KEYS = ("applicant", "applicant2", "county", "city", "city_admin", "province", "admin")
ROLE_KEYS += ("expert",)


@dataclass(frozen=True)
class ProvinceSpec:
    label: str  # "a" or "b": usernames and look-alike names carry it
    province: str
    city: str
    county: str
    expert_city: str  # experts must not sit above the applicants they score
    programme_file: str
    category: str  # a category schools apply in
    batch_code: str
    form: tuple[tuple[str, str], ...] = ()  # form values the category's rules insist on


HENAN = ProvinceSpec(
    "a",
    "410000",
    "410100",
    "410105",
    "410300",
    "henan-tencent-smart-campus-2019.toml",
    "school",
    "mx-a",
)
ZHEJIANG = ProvinceSpec(
    "b", "330000", "330100", "330106", "330200", "zhejiang-smart-education-2019.toml", "k12", "mx-b",
    form=(("unit_type", "school"),),
)  # fmt: skip


@dataclass
class Province:
    spec: ProvinceSpec
    province: Org
    city: Org
    county: Org
    schools: list[Org]
    programme: Programme
    users: dict[str, User] = field(default_factory=dict)
    memberships: dict[str, Membership] = field(default_factory=dict)
    draft: Application | None = None
    waiting: Application | None = None
    decision: ReviewDecision | None = None
    recommended: Application | None = None
    assignment: ExpertAssignment | None = None
    approved: Application | None = None
    announcement: Announcement | None = None
    objection: Objection | None = None
    pending_decision: ApprovalDecision | None = None
    allocation: QuotaAllocation | None = None
    plist: ParticipantList | None = None
    batch: Batch | None = None
    entry: Entry | None = None
    source: DataSource | None = None
    import_run: ImportRun | None = None
    visit: SiteVisit | None = None
    correction: Correction | None = None
    evidence: Evidence | None = None
    job: Job | None = None
    notification: Notification | None = None
    sheet_id: object = None
    sheet_key: str = ""
    admin_request: AdminAccountRequest | None = None
    pilot: Pilot | None = None
    submission: Submission | None = None  # the pilot's plan, submitted
    submission_file: SubmissionAttachment | None = None
    # The pilot period's stages (pilots.inspections / acceptance / honours).
    inspection: Inspection | None = None
    inspection_evidence: InspectionEvidence | None = None
    acceptance_submission: Submission | None = None
    acceptance_review: AcceptanceReview | None = None
    honour: Honour | None = None
    honour_objection: HonourObjection | None = None

    def scope(self, key: str) -> Scope:
        return Scope.for_membership(self.memberships[key])

    def actor(self, key: str) -> Actor:
        return Actor(user=self.users[key], org=self.memberships[key].org)

    def who(self, key: str) -> SimpleNamespace:
        """The user ``key`` as the services take it (what tests' ``Who`` gives)."""
        m = self.memberships[key]
        return SimpleNamespace(
            org=m.org, user=self.users[key], membership=m, scope=self.scope(key),
            actor=self.actor(key),
        )  # fmt: skip

    @property
    def school(self) -> Org:
        return self.schools[0]


def _reviewer_of(org_id: int) -> Who:
    return Who(Org.objects.get(pk=org_id), Role.REVIEWER)


def _people(p: Province) -> None:
    label = p.spec.label
    where = {
        "applicant": (p.schools[0], Role.APPLICANT),
        "applicant2": (p.schools[1], Role.APPLICANT),
        "county": (p.county, Role.REVIEWER),
        "city": (p.city, Role.REVIEWER),
        "city_admin": (p.city, Role.PROGRAMME_ADMIN),
        "province": (p.province, Role.REVIEWER),
        "admin": (p.province, Role.PROGRAMME_ADMIN),
        "expert": (Org.objects.get(code=p.spec.expert_city), Role.EXPERT),
        "pilot_unit": (p.schools[4], Role.APPLICANT),  # the approved school, a pilot later
    }
    for key, (org_, role) in where.items():
        user = make_user(org_, role, username=f"mx_{label}_{key}")
        p.users[key] = user
        p.memberships[key] = user.memberships.get()


def _applications(p: Province) -> None:
    prog, cat, form = p.programme, p.spec.category, dict(p.spec.form)
    applicant = p.who("applicant")
    p.draft = app_services.application_start(
        programme=prog, category_code=cat, scope=applicant.scope, actor=applicant.actor
    )
    p.waiting = submit_as(p.who("applicant2"), prog, cat, **form)

    # Recommended by its first level: a decision that level may withdraw.
    moved = submit_as(Who(p.schools[2]), prog, cat, **form)
    first = _reviewer_of(moved.current_org_id)
    p.decision = review.review_recommend(
        application=moved, scope=first.scope, actor=first.actor, opinion="同意推荐。"
    )
    if not isinstance(p.decision, ReviewDecision):
        p.decision = ReviewDecision.objects.filter(application=moved, active=True).latest("pk")

    admin = p.who("admin")
    # Awaiting the issuer, with the province's expert assigned.
    p.recommended = to_issuer(submit_as(Who(p.schools[3]), prog, cat, **form))
    member = experts.expert_pool_add(
        programme=prog, membership=p.memberships["expert"], scope=admin.scope, actor=admin.actor
    )
    experts.expert_assign(
        application=p.recommended, member=member, scope=admin.scope, actor=admin.actor
    )
    p.assignment = ExpertAssignment.objects.get(application=p.recommended)

    # Approved and published, with an objection; then one more approved, not yet published.
    p.approved = to_issuer(submit_as(Who(p.schools[4]), prog, cat, **form))
    approval.selection_decide(
        applications=[p.approved],
        outcome="approve",
        opinion="同意立项",
        scope=admin.scope,
        actor=admin.actor,
    )
    p.announcement = ann.announcement_publish(programme=prog, scope=admin.scope, actor=admin.actor)
    p.objection = ann.objection_record(
        announcement=p.announcement,
        entry=p.announcement.entries.get(),
        text="反映该校网络条件不实。",
        scope=admin.scope,
        actor=admin.actor,
    )
    pending = to_issuer(submit_as(Who(p.schools[5]), prog, cat, **form))
    approval.selection_decide(
        applications=[pending],
        outcome="approve",
        opinion="同意立项",
        scope=admin.scope,
        actor=admin.actor,
    )
    p.pending_decision = ApprovalDecision.objects.get(application=pending, is_active=True)
    for app in (p.draft, p.waiting, p.recommended, p.approved):
        app.refresh_from_db()
    # The approved unit as a pilot (its final list is not out yet: the objection is open).
    (p.pilot,) = pilots_create(applications=[p.approved], actor=admin.actor)
    _pilot_submission(p)


def _fill(field, prefix: str, post: dict) -> None:
    """A value for one field of a stage's form, as the browser posts it."""
    name = f"{prefix}{field.key}"
    if field.type == "group":
        post[f"{name}-rows"] = "1"
        for sub in field.fields:
            _fill(sub, f"{name}-0-", post)
    elif field.type == "number":
        post[name] = "1"
    elif field.type == "date":
        post[name] = "2026-01-01"
    elif field.type == "choice":
        post[name] = field.options[0].value
    elif field.type in ("text", "longtext"):
        post[name] = "矩阵填写内容"


def _pilot_submission(p: Province) -> None:
    """The pilot's plan, submitted and awaiting its supervisor; with a file."""
    unit = p.who("pilot_unit")
    stage = p.pilot.spec.stage_of("plan")
    post: dict = {}
    for f in pilot_services.stage_form(stage).all_fields():
        _fill(f, "f-", post)
    sub, _ = pilot_services.submission_save(
        pilot=p.pilot, stage_key=stage.key, post=post, scope=unit.scope, actor=unit.actor
    )
    pilot_services.submission_submit(submission=sub, scope=unit.scope, actor=unit.actor)
    sub.refresh_from_db()
    p.submission = sub
    p.submission_file = SubmissionAttachment.objects.create(
        submission=sub,
        field_key="plan",
        # Content of its own: other tests store (and some delete) the plain pdf_bytes() blob.
        blob=blob_store_bytes(pdf_bytes(text="url-matrix plan"), "application/pdf"),
        filename="矩阵方案.pdf",
        uploaded_by=unit.user,
    )


def _pilot_stages(p: Province) -> None:
    """The pilot's unit account, an inspection awaiting the inspector, an acceptance
    submission with the province's expert assigned, a proposed title."""
    pilot, admin = p.pilot, p.who("admin")
    # The unit's account (made with the others as "pilot_unit") also answers to "unit".
    p.users["unit"], p.memberships["unit"] = p.users["pilot_unit"], p.memberships["pilot_unit"]
    p.inspection = Inspection.objects.create(
        pilot=pilot, stage="inspection", mode="site", org=p.county, scheduled_for=dt.date(2099, 1, 5),
        team="矩阵检查组", state=InspectionState.ANSWERED, findings="需整改", demands="整改",
        response="已整改",
    )  # fmt: skip
    p.inspection_evidence = InspectionEvidence.objects.create(
        inspection=p.inspection,
        blob=blob_store_bytes(pdf_bytes(text="url-matrix evidence"), "application/pdf"),
        filename="整改佐证.pdf",
    )
    stage = pilot.spec.stage_of("acceptance")
    p.acceptance_submission = Submission.objects.create(
        pilot=pilot, stage=stage.key, kind="acceptance", state=SubmissionState.SUBMITTED,
        data={"summary": "试点工作总结"},
    )  # fmt: skip
    p.acceptance_review = acceptance_assign(
        submission=p.acceptance_submission,
        member=p.assignment.pool_member,
        scope=admin.scope,
        actor=admin.actor,
    )
    title = pilot.spec.stage_of("appraisal").titles[0]
    p.honour = Honour.objects.create(
        pilot=pilot, stage=pilot.spec.stage_of("appraisal").key, title_key=title.key,
        title_name=title.name,
    )  # fmt: skip
    p.honour_objection = HonourObjection.objects.create(
        honour=p.honour, text="矩阵异议", received_at=dt.datetime(2099, 1, 6, tzinfo=dt.UTC)
    )


def _certification(p: Province, standards: dict[str, Standard]) -> None:
    actor, scope = p.actor("city_admin"), p.scope("city_admin")
    p.batch = cert.batch_create(
        owner=p.city,
        code=p.spec.batch_code,
        name=f"{p.city.name}智慧校园认定（矩阵{p.spec.label.upper()}）",
        certification_date=dt.date(2099, 9, 30),
        cutoff=dt.date(2099, 8, 31),
        standard=standards["zj-sc-2022"],
        scope=scope,
        actor=actor,
    )
    p.entry = p.batch.entries.get(school=p.schools[0])
    p.source = cert.source_save(
        owner=p.city,
        code=f"national-{p.spec.label}",
        name="全国教育信息化工作管理信息系统",
        system="national",
        code_column="学校标识码",
        name_column="学校名称",
        mapping=[{"column": f"{c}列", "indicator": c} for c in GOOD],
        scope=scope,
        actor=actor,
    )
    started = cert.import_prepare(
        batch=p.batch,
        source=p.source,
        content=export_rows([(s.code, s.name, GOOD) for s in p.schools[:2]]),
        filename="national.xlsx",
        as_of=None,
        scope=scope,
        actor=actor,
    )
    cert.import_execute(run=started.run, scope=scope)
    p.import_run = ImportRun.objects.get(pk=started.run.pk)
    p.correction = cert.correction_file(
        entry=p.entry,
        indicator="ZJ-02",
        raw_value=1200,
        reason="统计口径更正",
        evidence=[("证明.pdf", pdf_bytes())],
        scope=p.scope("applicant"),
        actor=p.actor("applicant"),
    )
    p.evidence = Evidence.objects.filter(correction=p.correction).first()
    certifier_team = p.users["city"] if p.entry.certifier_id == p.city.pk else None
    if certifier_team is None:  # the county certifies its schools: its reviewer visits
        certifier_team = make_user(
            Org.objects.get(pk=p.entry.certifier_id),
            Role.REVIEWER,
            f"mx_{p.spec.label}_certifier",
        )
    membership = certifier_team.memberships.get(org_id=p.entry.certifier_id)
    p.visit = cert.visit_assign(
        entry=p.entry,
        team=[certifier_team],
        team_note="",
        planned_for=None,
        scope=Scope.for_membership(membership),
        actor=Actor(user=certifier_team, org=membership.org),
    )


def _desk(p: Province) -> None:
    """What a person leaves behind: a job, a notification, a credential sheet, a request."""
    admin = p.actor("admin")
    p.job = job_start("tests.matrix_echo", actor=admin, scope=p.scope("admin"))
    p.job = job_run(job_id=p.job.pk)
    (p.notification,) = notify(
        users=[p.users["applicant"]], event="matrix.test", title="矩阵测试通知", link="/"
    )
    creds = account_services.accounts_provision(
        root=p.county, actor=p.actor("county"), scope=p.scope("county"), limit=1
    )
    sheet, key = credentials.sheet_create(
        entries=creds, created_by=p.users["county"], org=p.county, purpose="provision"
    )
    p.sheet_id, p.sheet_key = sheet.pk, key
    if p.programme.parsed.admin_account_requests is not None:
        city_reviewer = p.scope("city")
        p.admin_request = account_services.admin_request_submit(
            programme=p.programme,
            org=p.city,
            full_name="王主任",
            gender="male",
            unit=p.city.name,
            position="主任",
            phone="13800138000",
            actor=p.actor("city"),
            scope=city_reviewer,
        )
    p.allocation = QuotaAllocation.objects.filter(programme=p.programme, holder=p.city).first()
    codes = [ref.code for ref in p.programme.parsed.lists]
    p.plist = ParticipantList.objects.filter(code__in=codes).order_by("code").first()


def build_province(spec: ProvinceSpec, standards: dict[str, Standard]) -> Province:
    province, city, county = (
        Org.objects.get(code=c) for c in (spec.province, spec.city, spec.county)
    )
    programme = load(spec.programme_file)
    schools = [
        make_school(
            county,
            name=f"{county.name}矩阵{spec.label.upper()}第{i + 1}小学",
            code=f"MX{spec.label.upper()}{i + 1:03d}",
            stages=",primary,",
        )
        for i in range(6)
    ]
    p = Province(spec, province, city, county, schools, programme)
    _people(p)
    _applications(p)
    _pilot_stages(p)
    _certification(p, standards)
    _desk(p)
    return p


@dataclass
class World:
    a: Province
    b: Province
    platform: User
    standards: dict[str, Standard]


def build_world() -> World:
    """Two look-alike provinces (Henan as "a", Zhejiang as "b") and a platform admin."""
    standards = load_standards()
    a = build_province(HENAN, standards)
    b = build_province(ZHEJIANG, standards)
    platform = make_user(Org.objects.get(code="410000"), Role.PLATFORM_ADMIN, "mx_platform")
    return World(a, b, platform, standards)
