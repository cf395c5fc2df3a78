"""Shared support for the selection tests (experts, approval, announcements). No tests here.

Applications reach RECOMMENDED the way the chain leaves them: submitted through the real
applicant services, then moved to the issuer's step (``to_issuer``), as the review chain's
last recommendation does. The Henan programme gets a rubric appended to its real file.
"""

from __future__ import annotations

import itertools
import socket
import time
from contextlib import contextmanager
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path

from django.conf import settings

from edupilot.applications import services as app_services
from edupilot.applications.models import Application, ApplicationVersion, AppState
from edupilot.audit.services import Actor
from edupilot.orgs.models import Locality, Org, OrgKind, Role
from edupilot.programmes import loader
from edupilot.programmes.chain import review_chain
from edupilot.programmes.models import Programme
from edupilot.programmes.services import programme_load
from tests.applications.conftest import SCHOOL_FORM, Who, upload
from tests.conftest import make_school, org

_n = itertools.count(1)

RUBRIC_TOML = """

[rubric]
aggregate = "{aggregate}"
trim = 1
experts_per_application = {per_app}
disagreement_threshold = 15

[[rubric.criteria]]
key = "basis"
name = "工作基础"
max = 30

[[rubric.criteria]]
key = "plan"
name = "建设与应用计划"
max = 40

[[rubric.criteria]]
key = "guarantee"
name = "保障条件"
max = 30
"""


def henan_file_text() -> str:
    """The real Henan file without its own [rubric] (the last table), so tests can set theirs."""
    path = Path(settings.EDUPILOT_PROGRAMMES_DIR) / "henan-tencent-smart-campus-2019.toml"
    return path.read_text(encoding="utf-8").split("\n[rubric]")[0]


def load_henan(
    *,
    aggregate="trimmed_mean",
    per_app=3,
    extra: str = "",
    rubric: bool = True,
    replace: dict[str, str] | None = None,
) -> Programme:
    """The real Henan file with a test rubric (and anything in ``extra``) appended, open today;
    ``replace``: lines of the file changed (each must be there once)."""
    text = henan_file_text()
    for old, new in (replace or {}).items():
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    text += (RUBRIC_TOML.format(aggregate=aggregate, per_app=per_app) if rubric else "") + extra
    parsed = loader.parse_text(text, "henan-tencent-smart-campus-2019.toml")
    existing = Programme.objects.filter(code="henan-tencent-2019").first()
    shift = existing.time_shift_days if existing else None
    if shift is None:
        from edupilot.programmes.services import open_now_shift

        shift = open_now_shift(parsed)
    return programme_load(parsed=parsed, actor=Actor.system(), time_shift_days=shift).programme


def who(org_: Org | str, role=Role.APPLICANT, username=None) -> Who:
    return Who(org(org_) if isinstance(org_, str) else org_, role, username=username)


def unit(parent: Org | str, name: str, kind=OrgKind.UNIVERSITY) -> Org:
    parent = org(parent) if isinstance(parent, str) else parent
    return Org.objects.create(
        code=f"U{parent.code[:6]}{next(_n):04d}", name=name, kind=kind, parent=parent
    )


def expert_at(org_: Org | str, name: str | None = None):
    """A user with an ``expert`` membership at ``org_``; returns (who, membership)."""
    w = who(org_, Role.EXPERT, username=name)
    return w


def school_post(school: Org, **extra) -> dict:
    data = dict(SCHOOL_FORM)
    data["f-school_name"] = school.name
    data.update(extra)
    return data


def submit_school(programme: Programme, school: Who, **extra) -> Application:
    """The applicant's real path: start, fill (with people's names, phones, e-mails), attach, submit."""
    from django.http import QueryDict

    app = app_services.application_start(
        programme=programme, category_code="school", scope=school.scope, actor=school.actor
    )
    q = QueryDict(mutable=True)
    for k, v in school_post(school.org, **extra).items():
        q.setlist(k, v) if isinstance(v, list) else q.__setitem__(k, v)
    app_services.application_save_draft(
        application=app, post=q, scope=school.scope, actor=school.actor
    )
    app_services.application_attach(
        application=app,
        field_key="form_scan",
        upload=upload(),
        scope=school.scope,
        actor=school.actor,
    )
    app.refresh_from_db()
    app_services.application_submit(application=app, scope=school.scope, actor=school.actor)
    app.refresh_from_db()
    return app


def to_issuer(app: Application) -> Application:
    """Move a submitted application to its last step, awaiting the issuer (RECOMMENDED)."""
    last = len(app.chain) - 1
    Application.objects.filter(pk=app.pk).update(
        state=AppState.RECOMMENDED, current_step=last, current_org_id=app.chain[last]["org"]
    )
    app.refresh_from_db()
    return app


def henan_school(programme: Programme, parent="金水区", name=None, **extra) -> Application:
    s = make_school(org(parent), name=name, stages=",primary,", locality=Locality.URBAN)
    return to_issuer(submit_school(programme, Who(s), **extra))


def recommended(
    programme: Programme, category: str, applicant: Org, data=None, topic=""
) -> Application:
    """A RECOMMENDED application made directly (for volume: caps, rankings, query counts)."""
    spec = programme.parsed.category(category)
    steps = review_chain(spec, applicant)
    chain = [s.as_json() for s in steps]
    app = Application.objects.create(
        programme=programme,
        category=category,
        applicant_org=applicant,
        topic=topic,
        state=AppState.RECOMMENDED,
        title=applicant.name,
        data=data or {},
        version=1,
        chain=chain,
        current_step=len(chain) - 1,
        current_org_id=chain[-1]["org"],
    )
    from django.utils import timezone

    ApplicationVersion.objects.create(
        application=app,
        number=1,
        topic=topic,
        title=app.title,
        data=app.data,
        submitted_at=timezone.now(),
    )
    return app


def expert_panel(programme: Programme, admin: Who, n: int, name: str = "评审专家") -> list[Who]:
    """``n`` experts (each at a university of Henan, so in no Quanzhou or Zhejiang lineage) in
    ``programme``'s pool, added by its admin."""
    from edupilot.selection import experts

    panel = [who(unit("410000", f"{name}{next(_n)}大学"), Role.EXPERT) for _ in range(n)]
    for w in panel:
        experts.expert_pool_add(
            programme=programme,
            membership=w.user.memberships.get(role=Role.EXPERT),
            scope=admin.scope,
            actor=admin.actor,
        )
    return panel


def score_by(app: Application, panel: list[Who], admin: Who, marks=(0.6, 0.7, 0.8, 0.9, 1.0)):
    """Each expert of ``panel`` assigned to ``app`` by the admin and submitting scores (a share
    ``marks[i]`` of each criterion's maximum), through the real services."""
    from edupilot.selection import experts, scoring
    from edupilot.selection.models import ExpertAssignment, ExpertPoolMember

    rubric = app.programme.parsed.rubric
    for w, m in zip(panel, itertools.cycle(marks), strict=False):
        member = ExpertPoolMember.objects.get(programme=app.programme, user=w.user)
        experts.expert_assign(application=app, member=member, scope=admin.scope, actor=admin.actor)
        scoring.expert_scores_save(
            assignment=ExpertAssignment.objects.get(application=app, expert=w.user),
            scores={c.key: str(round(float(c.max) * m)) for c in rubric.criteria},
            comment="方案可行。",
            submit=True,
            scope=w.scope,
            actor=w.actor,
        )
    app.refresh_from_db()
    return app


def expert_user(username: str):
    from edupilot.accounts.models import User

    return User.objects.get(username=username)


# --- a real SMTP server on loopback ------------------------------------------------------------


class _Collect:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        msg = message_from_bytes(envelope.content, policy=default_policy)
        self.messages.append({"to": list(envelope.rcpt_tos), "msg": msg})
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def smtp_capture(settings):
    """aiosmtpd on 127.0.0.1, with Django's SMTP backend pointed at it; yields the collector."""
    from aiosmtpd.controller import Controller

    handler = _Collect()
    port = _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    try:
        yield handler
    finally:
        controller.stop()


def wait_for(predicate, timeout=5.0):
    """Wait for the SMTP server thread to have handled what was sent (not a timing assertion)."""
    deadline = time.monotonic() + timeout
    while not predicate() and time.monotonic() < deadline:
        time.sleep(0.02)
    return predicate()
