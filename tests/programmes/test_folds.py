"""``[[folds]]``: a development zone applies, in one programme, as part of a district.

Its schools queue at the district, spend the district's quota and are shown so by
``programme show``; a programme without the fold routes them by the tree. Files that would
make a fold mean nothing, or loop, are refused at the fold's line.
"""

from __future__ import annotations

import io
import json

import pytest
from django.conf import settings
from django.core.management import call_command
from django.http import QueryDict

from edupilot.applications.selectors import applications_for
from edupilot.orgs.models import Org, OrgKind
from edupilot.programmes import loader
from edupilot.programmes.models import Programme, QuotaAllocation
from edupilot.review import queue as reviewer_queue
from edupilot.review import services
from tests.conftest import copy_notices, org
from tests.review.conftest import reviewer, school_in, submit_as

SOURCE = settings.EDUPILOT_PROGRAMMES_DIR / "quanzhou-smart-campus-2018.toml"
CODE = 'code = "quanzhou-smart-campus-2018"'
FOLD = '\n[[folds]]\norg = "泉州开发区"\ninto = "丰泽区"\nnote = "开发区学校由丰泽区归口申报"\n'


@pytest.fixture(autouse=True)
def notices_beside_copies(tmp_path):
    """Edited copies of the seed files are written to tmp_path: their notice files go too."""
    copy_notices(tmp_path)


def folded_text(fold: str = FOLD) -> str:
    text = SOURCE.read_text(encoding="utf-8")
    assert text.count(CODE) == 1
    text = text.replace(CODE, 'code = "quanzhou-folded"')
    return text.replace("\n[period]", fold + "\n[period]", 1)


def write(tmp_path, text: str):
    path = tmp_path / "quanzhou-folded.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def both(seeded, tmp_path):
    """The Quanzhou notice as published, and a copy where 泉州开发区 applies through 丰泽区."""
    for path in (SOURCE, write(tmp_path, folded_text())):
        call_command("programme", "load", str(path), "--open-now", verbosity=0)
    return (
        Programme.objects.get(code="quanzhou-smart-campus-2018"),
        Programme.objects.get(code="quanzhou-folded"),
    )


def recommend(who, app):
    return services.review_recommend(
        application=app, scope=who.scope, actor=who.actor, opinion="同意推荐。"
    )


def pending(who) -> list[int]:
    view = reviewer_queue.review_queue(
        who.scope, reviewer_queue.QueueFilters.from_params(QueryDict())
    )
    return [row["pk"] for row in view.rows]


def test_a_folded_zone_queues_at_the_district_and_spends_its_quota(both):
    plain, folded = both
    zone = org("泉州开发区")
    fengze = reviewer("丰泽区")
    app = submit_as(school_in(zone, name="泉州开发区实验小学"), folded, "school")
    assert app.current_org == org("丰泽区")
    assert app.chain[0]["org"] == org("丰泽区").pk and app.chain[1]["org"] == org("泉州市").pk
    # 丰泽区's reviewer reaches it although the zone is outside its subtree …
    assert applications_for(fengze.scope).filter(pk=app.pk).exists()
    # … and another district's does not.
    assert not applications_for(reviewer("鲤城区").scope).filter(pk=app.pk).exists()
    # The zone holds no quota of its own in this programme; 丰泽区's one place is spent.
    assert not QuotaAllocation.objects.filter(programme=folded, holder=zone).exists()
    recommend(fengze, app)
    app.refresh_from_db()
    assert app.current_org == org("泉州市")
    own = submit_as(school_in(org("丰泽区"), name="丰泽区第二实验小学"), folded, "school")
    with pytest.raises(services.ReviewError, match="丰泽区“.*”县级推荐名额共 1 个，已全部占用"):
        recommend(fengze, own)
    # The programme without the fold routes the zone's schools by the tree.
    other = submit_as(school_in(zone, name="泉州开发区第二小学"), plain, "school")
    assert other.current_org == zone
    assert not applications_for(fengze.scope).filter(pk=other.pk).exists()


def test_the_district_queue_lists_the_folded_application(both):
    _, folded = both
    app = submit_as(school_in(org("泉州开发区")), folded, "school")
    fengze = reviewer("丰泽区")
    assert pending(fengze) == [app.pk]


def test_programme_show_says_through_whom_the_zone_applies(both):
    school = school_in(org("泉州开发区"), name="泉州开发区第三小学").org
    out = io.StringIO()
    call_command(
        "programme",
        "show",
        "quanzhou-folded",
        "--applicant",
        school.code,
        "--format",
        "json",
        stdout=out,
    )
    (category,) = json.loads(out.getvalue())["categories"]
    county = category["stages"][0]
    assert county["actor_org"] == "丰泽区（泉州开发区按丰泽区归口）"
    assert county["quota"].startswith("丰泽区（泉州开发区按丰泽区归口）：1 个")
    out = io.StringIO()
    call_command("programme", "show", "quanzhou-smart-campus-2018", "--applicant", school.code,
                 "--format", "json", stdout=out)  # fmt: skip
    assert json.loads(out.getvalue())["categories"][0]["stages"][0]["actor_org"] == "泉州开发区"


@pytest.mark.parametrize(
    "fold, field, message",
    [
        ('\n[[folds]]\norg = "某开发区"\ninto = "丰泽区"\n', "folds[1].org", "不存在"),
        ('\n[[folds]]\norg = "泉州开发区"\ninto = "某区"\n', "folds[1].into", "不存在"),
        ('\n[[folds]]\norg = "泉州市"\ninto = "丰泽区"\n', "folds[1].into", "下级"),
        ('\n[[folds]]\norg = "泉州开发区"\ninto = "泉州开发区"\n', "folds[1].into", "自己"),
        ('\n[[folds]]\norg = "泉州开发区"\ninto = "西湖区"\n', "folds[1].into", "管辖范围"),
        ('\n[[folds]]\norg = "泉州开发区"\ninto = "丰泽区"\ncategories = ["nope"]\n',
         "folds[1].categories", "未定义的类别"),
        ('\n[[folds]]\norg = "丰泽区"\ninto = "鲤城区"\n\n[[folds]]\norg = "鲤城区"\n'
         'into = "丰泽区"\n', "folds[", "循环"),
        ('\n[[folds]]\norg = "350500-TSQ"\ninto = "惠安县"\n',
         "categories[1].quotas[1].entries[12].org", "名额表中不应再列出"),
        (FOLD + FOLD, "folds[2].org", "归口了两次"),
    ],
)  # fmt: skip
def test_folds_that_cannot_hold_are_refused_at_their_line(seeded, tmp_path, fold, field, message):
    text = folded_text(fold)
    _, errors = loader.validate(write(tmp_path, text))
    assert errors, "validated"
    error = errors[0]
    assert error.field.startswith(field), [str(e) for e in errors]
    assert message in error.message, [str(e) for e in errors]
    assert error.line is not None


def test_a_fold_into_a_unit_that_is_not_a_bureau_is_refused(seeded, tmp_path):
    Org.objects.create(
        code="350503-X1", name="丰泽区某校", kind=OrgKind.SCHOOL, parent=org("丰泽区")
    )
    text = folded_text('\n[[folds]]\norg = "泉州开发区"\ninto = "350503-X1"\n')
    _, errors = loader.validate(write(tmp_path, text))
    assert "不是教育行政部门" in errors[0].message and errors[0].field == "folds[1].into"


def test_programme_show_lists_the_folds(both):
    out = io.StringIO()
    call_command("programme", "show", "quanzhou-folded", stdout=out)
    assert (
        "归口：泉州开发区 按 丰泽区 申报（全部类别）  开发区学校由丰泽区归口申报" in out.getvalue()
    )
    out = io.StringIO()
    call_command("programme", "show", "quanzhou-smart-campus-2018", stdout=out)
    assert "归口" not in out.getvalue()


def test_dashboards_count_a_folded_zone_where_it_queues(both):
    """Issue 11 §3: the city's dashboard counts the zone's bid under 丰泽区, where it queues,
    in the programme that folds it, and under the zone in the one that does not; the zone's
    own dashboard does not count a bid that queues elsewhere, the district's does."""
    from edupilot.dashboards import selectors as dashboards

    plain, folded = both
    school = school_in(org("泉州开发区"), name="泉州开发区看板小学")
    for programme in (plain, folded):
        submit_as(school, programme, "school")

    def table(region: str, programme, key: str):
        who = reviewer(region)
        data = dashboards.dashboard(who.scope, org(region), {"programme": programme.pk})
        return {str(r[0]): r[1:] for r in data.table(key).rows}

    assert table("泉州市", folded, "progress")["丰泽区"][:2] == [1, 1]
    assert table("泉州市", folded, "progress")["泉州开发区"][:2] == [0, 0]
    assert table("泉州市", plain, "progress")["泉州开发区"][:2] == [1, 1]
    assert table("泉州市", plain, "progress")["丰泽区"][:2] == [0, 0]
    assert table("泉州开发区", folded, "progress")["泉州开发区看板小学"][:2] == [0, 0]
    assert table("泉州开发区", plain, "progress")["泉州开发区看板小学"][:2] == [1, 1]
    assert table("丰泽区", folded, "progress")["丰泽区（本级）"][:2] == [1, 1]
    # Waiting at the county's review: the district's work, not the zone's.
    first = "试点学校：县（市、区）教育局初评推荐"
    assert table("丰泽区", folded, "deadlines")[first][2] == 1
    assert table("泉州开发区", folded, "deadlines")[first][2] == 0


def test_the_district_supervises_the_folded_zones_pilots(both):
    """A zone folded into a district applies there, so the district sees its pilot and counts
    its reports; the plain programme's pilot of the same zone stays out of the district's view."""
    from edupilot.audit.services import Actor
    from edupilot.pilots.creation import pilots_create
    from edupilot.pilots.reports import completeness
    from edupilot.pilots.selectors import pilots_for

    plain, folded = both
    zone = org("泉州开发区")
    school = school_in(zone, name="泉州开发区实验小学")
    apps = [submit_as(school, p, "school") for p in (plain, folded)]
    made = pilots_create(applications=apps, actor=Actor.system())
    fengze = reviewer("丰泽区")
    seen = set(pilots_for(fengze.scope).values_list("pk", flat=True))
    mine = next(p for p in made if p.programme_id == folded.pk)
    assert mine.pk in seen and len(seen & {p.pk for p in made}) == 1
    data = completeness(fengze.scope, {"programme": str(folded.pk)})
    assert [r["pilot"].pk for r in data.rows] == [mine.pk]
