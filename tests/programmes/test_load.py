"""Loading programme files: idempotent, refused once submitted, overrides kept, audited."""

import datetime as dt
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from edupilot.applications.models import Application, ApplicationVersion, AppState
from edupilot.audit.models import AuditEvent
from edupilot.audit.services import Actor, audit_verify
from edupilot.programmes import loader, services
from edupilot.programmes.models import ParticipantList, Programme, QuotaAllocation
from tests.conftest import copy_notices, make_school, org

PROGRAMMES = Path(__file__).resolve().parents[2] / "programmes"
QUANZHOU = PROGRAMMES / "quanzhou-smart-campus-2018.toml"


@pytest.fixture(autouse=True)
def notices_beside_copies(tmp_path):
    """Edited copies of the seed files are written to tmp_path: their notice files go too."""
    copy_notices(tmp_path)


def changed_copy(tmp_path, old: str, new: str) -> Path:
    text = QUANZHOU.read_text(encoding="utf-8")
    assert text.count(old) == 1
    path = tmp_path / QUANZHOU.name
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


def test_all_files_load_open_now_and_twice_change_nothing(programmes, capsys):
    assert Programme.objects.count() == 5
    events = AuditEvent.objects.count()
    allocations = list(QuotaAllocation.objects.order_by("pk").values_list("pk", "effective"))
    call_command("programme", "load", "--all", "--open-now")
    out = capsys.readouterr().out
    assert out.count("unchanged") == 5
    assert AuditEvent.objects.count() == events
    assert (
        list(QuotaAllocation.objects.order_by("pk").values_list("pk", "effective")) == allocations
    )
    now = timezone.now()
    assert all(p.is_open(now) for p in Programme.objects.all())
    # Lists declared by the files exist, ready for import.
    assert ParticipantList.objects.filter(code="hengyang_unfinished_pilots").exists()


def test_shifted_dates_keep_their_order(programmes):
    zj = Programme.objects.get(code="zhejiang-smart-education-2019")
    assert zj.time_shift_days > 0
    assert zj.category_closes_at("k12") < zj.closes_at
    assert zj.category_closes_at("k12") <= zj.level_deadline("k12", "county")
    assert zj.level_deadline("k12", "county") <= zj.level_deadline("k12", "city")
    assert zj.is_open_for("higher_ed", zj.closes_at - dt.timedelta(hours=1))
    assert not zj.is_open_for("k12", zj.closes_at - dt.timedelta(hours=1))
    spec_close = zj.parsed.category_closes_at(zj.parsed.category("k12"))
    assert zj.category_closes_at("k12") - spec_close == dt.timedelta(days=zj.time_shift_days)


def test_changed_file_updates_a_programme_without_submissions(seeded, tmp_path):
    outcome = services.programme_load(QUANZHOU, actor=Actor.system())
    assert outcome.action == "created"
    changed = changed_copy(tmp_path, "deadline = 2019-01-18", "deadline = 2019-01-25")
    outcome = services.programme_load(changed, actor=Actor.system())
    assert outcome.action == "updated"
    p = Programme.objects.get(code="quanzhou-smart-campus-2018")
    assert p.level_deadline("school", "city").date() == dt.date(2019, 1, 25)
    actions = list(
        AuditEvent.objects.filter(object_id=str(p.pk), object_type="programmes.programme")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["programme.created", "programme.updated"]
    assert audit_verify().ok


def test_reload_refused_once_a_programme_has_a_submission(seeded, tmp_path):
    services.programme_load(QUANZHOU, actor=Actor.system())
    p = Programme.objects.get(code="quanzhou-smart-campus-2018")
    school = make_school(org("350582"), "晋江市某镇中心小学")
    app = Application.objects.create(
        programme=p, category="school", applicant_org=school, state=AppState.SUBMITTED, version=1
    )
    ApplicationVersion.objects.create(application=app, number=1, submitted_at=timezone.now())
    # The same file is still fine: nothing changes.
    assert services.programme_load(QUANZHOU, actor=Actor.system()).action == "unchanged"
    changed = changed_copy(
        tmp_path, '{ org = "晋江市", quota = 9 }', '{ org = "晋江市", quota = 10 }'
    )
    source_before = p.source_sha256
    with pytest.raises(services.ProgrammeLoadRefused, match="已有 1 份提交的申报"):
        services.programme_load(changed, actor=Actor.system())
    p.refresh_from_db()
    assert p.source_sha256 == source_before
    with pytest.raises(CommandError):
        call_command("programme", "load", str(changed))


def test_invalid_file_changes_nothing(seeded, tmp_path):
    services.programme_load(QUANZHOU, actor=Actor.system())
    before = QuotaAllocation.objects.filter(programme__code="quanzhou-smart-campus-2018").count()
    bad = changed_copy(tmp_path, '{ org = "德化县", quota = 1 }', '{ org = "德化", quota = 1 }')
    with pytest.raises(loader.ProgrammeFileInvalid) as exc:
        services.programme_load(bad, actor=Actor.system())
    assert "德化" in str(exc.value)
    p = Programme.objects.get(code="quanzhou-smart-campus-2018")
    assert p.quotas.count() == before


def test_override_is_kept_across_reload_and_audited(seeded, tmp_path, django_user_model):
    services.programme_load(QUANZHOU, actor=Actor.system())
    p = Programme.objects.get(code="quanzhou-smart-campus-2018")
    zone = p.quotas.get(holder__code="350500-KFQ")
    assert zone.effective == 0 and zone.declared is None
    with pytest.raises(ValueError, match="理由"):
        services.quota_override(allocation=zone, value=1, reason="  ", actor=Actor.system())
    zone.refresh_from_db()
    assert zone.override is None
    user = django_user_model.objects.create_user(username="qz-admin", password="x")
    services.quota_override(
        allocation=zone, value=1, reason="开发区学校由市教育局另行分配", actor=Actor(user=user)
    )
    changed = changed_copy(tmp_path, "deadline = 2019-01-18", "deadline = 2019-01-25")
    services.programme_load(changed, actor=Actor.system())
    zone.refresh_from_db()
    assert (zone.override, zone.effective, zone.overridden_by) == (1, 1, user)
    event = AuditEvent.objects.filter(action="quota.override").get()
    assert event.after == {"override": 1, "effective": 1, "reason": "开发区学校由市教育局另行分配"}
    services.quota_override(allocation=zone, value=None, reason="撤销", actor=Actor(user=user))
    zone.refresh_from_db()
    assert (zone.override, zone.effective) == (None, 0)


def test_quota_resync_follows_the_tree(seeded, tmp_path):
    text = (PROGRAMMES / "zhejiang-smart-education-2019.toml").read_text(encoding="utf-8")
    old = 'authority = "declared"\ndeclared_total = 60'
    assert text.count(old) == 1
    path = tmp_path / "zj.toml"
    path.write_text(text.replace(old, 'authority = "computed"\ndeclared_total = 60'), "utf-8")
    services.programme_load(path, actor=Actor.system())
    p = Programme.objects.get(code="zhejiang-smart-education-2019")
    row = p.quotas.get(category="k12", holder__name="舟山市")
    assert (row.basis, row.computed, row.effective) == (0, 1, 1)  # no schools yet: minimum 1
    for _ in range(200):
        make_school(org("330902"), stages=",junior,")
    changed = services.quota_resync(programme=p, actor=Actor.system())
    assert changed == [
        {
            "category": "k12",
            "level": "city",
            "holder": "330900",
            "direct": False,
            "before": 1,
            "after": 2,
        }
    ]
    row.refresh_from_db()
    assert (row.basis, row.computed, row.effective) == (200, 2, 2)  # 200 × 1.1% = 2.2
    assert AuditEvent.objects.filter(action="quota.resync").count() == 1
    assert services.quota_resync(programme=p, actor=Actor.system()) == []
    assert AuditEvent.objects.filter(action="quota.resync").count() == 1
