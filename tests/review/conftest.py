"""Applications submitted through the real applicant services, and reviewers to act on them."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.core.management import call_command
from django.http import QueryDict

from edupilot.applications import services as app_services
from edupilot.orgs.models import Locality, Org, Role
from edupilot.programmes.models import Programme, QuotaAllocation
from tests.applications.conftest import Who, upload
from tests.conftest import make_school, org
from tests.evidence import sample_upload


def load(filename: str) -> Programme:
    """One programme file, demo-shifted so that it is open now (loading all five is slow)."""
    path = settings.EDUPILOT_PROGRAMMES_DIR / filename
    call_command("programme", "load", str(path), "--open-now", verbosity=0)
    return Programme.objects.get(source_name=filename)


@pytest.fixture
def henan(seeded):
    return load("henan-tencent-smart-campus-2019.toml")


@pytest.fixture
def zhejiang(seeded):
    return load("zhejiang-smart-education-2019.toml")


@pytest.fixture
def quanzhou(seeded):
    return load("quanzhou-smart-campus-2018.toml")


def _value(f, topics):
    if f.type == "text":
        if f.pattern:
            return "310000" if re.fullmatch(f.pattern, "310000") else "A"
        return ("测试" * 10)[: max(f.min_length, 2)]
    if f.type == "longtext":
        return "试" * max((f.min_chars or 0) + 5, 10)
    if f.type == "number":
        low = f.min if f.min is not None else 0
        return str(max(low, min(100, f.max if f.max is not None else 100)))
    if f.type == "choice":
        return [f.options[0].value] if f.multiple else f.options[0].value
    if f.type == "date":
        return str(f.min or "2019-01-01")
    if f.type == "phone":
        return "0571-87654321" if f.kind == "landline" else "13800138000"
    if f.type == "email":
        return "office@example.com"
    if f.type == "bool":
        return "on"
    if f.type == "topic":
        return topics[0].code if topics else ""
    return None


def valid_post(programme: Programme, category_code: str, **overrides) -> QueryDict:
    """A complete, valid POST of the category's form (what a careful applicant types)."""
    spec = programme.parsed
    category = spec.category(category_code)
    form = spec.form_for(category)
    topics = [t for t in spec.topics if t.code in category.topics]
    q = QueryDict(mutable=True)
    for f in form.all_fields():
        if f.type in ("attachment", "members"):
            continue
        if f.type == "group":
            rows = max(f.min_items, 1)
            q[f"f-{f.key}-rows"] = str(rows)
            for i in range(rows):
                for sub in f.fields:
                    v = _value(sub, topics)
                    name = f"f-{f.key}-{i}-{sub.key}"
                    q.setlist(name, v) if isinstance(v, list) else q.__setitem__(name, v)
            continue
        v = _value(f, topics)
        if v is None:
            continue
        if isinstance(v, list):
            q.setlist(f"f-{f.key}", v)
        else:
            q[f"f-{f.key}"] = v
    for k, v in overrides.items():
        if isinstance(v, list):
            q.setlist(f"f-{k}", v)
        else:
            q[f"f-{k}"] = v
    return q


def submit_as(who: Who, programme: Programme, category: str, members=(), now=None, **overrides):
    """Start, fill, attach, name members, submit: the applicant's whole path."""
    app = app_services.application_start(
        programme=programme, category_code=category, scope=who.scope, actor=who.actor, now=now
    )
    app_services.application_save_draft(
        application=app,
        post=valid_post(programme, category, **overrides),
        scope=who.scope,
        actor=who.actor,
        now=now,
    )
    form = programme.parsed.form_for(programme.parsed.category(category))
    for f in form.all_fields():
        if f.type == "attachment" and (f.required or f.min_count):
            for i in range(max(f.min_count, 1)):
                app_services.application_attach(
                    application=app,
                    field_key=f.key,
                    # A scan for a PDF field; else a real file of the first kind it takes.
                    upload=upload() if "pdf" in f.accept else sample_upload(f.accept[0], i + 1),
                    scope=who.scope,
                    actor=who.actor,
                    now=now,
                )
    if members:
        app_services.application_set_members(
            application=app,
            org_ids=[m.pk for m in members],
            scope=who.scope,
            actor=who.actor,
            now=now,
        )
    app.refresh_from_db()
    app_services.application_submit(application=app, scope=who.scope, actor=who.actor, now=now)
    app.refresh_from_db()
    return app


def school_in(parent: Org, name: str | None = None, **attrs) -> Who:
    attrs.setdefault("stages", ",primary,")
    attrs.setdefault("locality", Locality.URBAN)
    return Who(make_school(parent, name=name, **attrs))


def reviewer(org_: Org | str, role: str = Role.REVIEWER) -> Who:
    return Who(org(org_) if isinstance(org_, str) else org_, role)


def set_quota(programme: Programme, category: str, holder: Org | str, n: int, direct=False):
    holder = org(holder) if isinstance(holder, str) else holder
    return QuotaAllocation.objects.filter(
        programme=programme, category=category, holder=holder, direct=direct
    ).update(effective=n, unlimited=False)


@pytest.fixture
def henan_school_app(henan):
    """A Henan school bid from 郑州市金水区, waiting at 郑州市 (chain: city → province)."""

    def make(name=None, parent="金水区"):
        who = school_in(org(parent), name=name)
        return submit_as(who, henan, "school"), who

    return make
