"""A round's confirmed units end FORWARDED (已推荐至上级), not as pilots of the round.

When a city round's final list is published, its listed applications are the city's
recommendations into the provincial call: they get their own end state, no pilot record is
made for them (even when the parent's file has a ``[pilot]``), the applicant reads where its
application went with a link to it, the public list and its PDF say the list goes up, and a
round file that declares its own ``[pilot]`` is refused at that line.
"""

from __future__ import annotations

import datetime as dt
import io
import json

from django.core.management import call_command
from django.template.loader import render_to_string
from django.urls import reverse

from edupilot.applications.models import Application, AppState
from edupilot.core.models import Notification
from edupilot.documents.announcements import TEMPLATE, announcement_context
from edupilot.orgs.models import Role
from edupilot.pilots.creation import pilots_create
from edupilot.pilots.models import Pilot
from edupilot.programmes import cascade
from edupilot.selection import announcements
from edupilot.selection.selectors import public_announcement
from tests.applications.conftest import Who
from tests.selection.test_cascade import (
    ROUND,
    city_round_through_its_publicity,
    errors_of,
    the_line,
)


def close(ann, city_admin):
    return announcements.announcement_close(
        announcement=ann,
        actor=city_admin.actor,
        scope=city_admin.scope,
        now=ann.objection_until + dt.timedelta(minutes=1),
    )


def test_confirmed_units_are_forwarded_not_pilots(city_round, province):
    assert province.parsed.pilot is not None, "the parent has a pilot period"
    apps, ann, city_admin = city_round_through_its_publicity(city_round, schools=3, approve=2)
    close(ann, city_admin)
    states = dict(Application.objects.filter(programme=city_round).values_list("pk", "state"))
    assert [states[a.pk] for a in apps] == [
        AppState.FORWARDED,
        AppState.FORWARDED,
        AppState.REJECTED,
    ]
    assert not Pilot.objects.exists(), "no pilot of the round, none yet of the province"
    # A forwarded application never becomes a pilot, even when handed to pilot creation.
    forwarded = list(Application.objects.filter(programme=city_round, state=AppState.FORWARDED))
    assert pilots_create(applications=forwarded, actor=city_admin.actor) == []
    # Each parent application knows the round's it came from.
    sent = Application.objects.filter(programme=province).order_by("pk")
    assert [a.from_round_id for a in sent] == [a.pk for a in apps[:2]]
    told = Notification.objects.filter(event="selection.forward", recipient__username__isnull=False)
    assert f"公示期满，已推荐至上级项目“{province.title}”" in {n.title for n in told}
    assert not Notification.objects.filter(event="selection.pilot").exists()


def test_the_applicant_sees_where_its_application_went(city_round, province, client):
    apps, ann, city_admin = city_round_through_its_publicity(city_round, schools=1, approve=1)
    close(ann, city_admin)
    parent_app = Application.objects.get(programme=province)
    school = Who(apps[0].applicant_org, Role.APPLICANT)
    client.force_login(school.user)
    page = client.get(reverse("applications:detail", args=[apps[0].pk])).content.decode()
    assert "已推荐至上级" in page
    assert f"已推荐至上级项目“{province.title}”" in page
    assert reverse("applications:detail", args=[parent_app.pk]) in page
    # And the province's application says where it came from.
    page = client.get(reverse("applications:detail", args=[parent_app.pk])).content.decode()
    assert f"经下级评选“{city_round.title}”确认后推荐报送" in page
    assert reverse("applications:detail", args=[apps[0].pk]) in page


def test_the_public_list_says_the_units_go_up(city_round, province, client):
    _apps, ann, city_admin = city_round_through_its_publicity(city_round, schools=1, approve=1)
    page = client.get(reverse("selection_public:detail", args=[ann.pk])).content.decode()
    assert "拟推荐名单" in page and "拟立项名单" not in page
    close(ann, city_admin)
    ann.refresh_from_db()
    page = client.get(reverse("selection_public:detail", args=[ann.pk])).content.decode()
    assert f"本次评选为“{province.title}”的下级评选" in page
    context = announcement_context(public_announcement(ann.pk))
    assert context["parent_title"] == province.title
    printed = render_to_string(TEMPLATE, context)
    assert f"名单中的单位作为衡阳市的推荐报送{province.title}" in printed


def test_a_round_with_its_own_pilot_period_is_refused_at_its_line(province, tmp_path):
    text = ROUND.format(cap="") + "\n[pilot]\nduration_months = 12\n"
    (error,) = errors_of(tmp_path, text)
    assert error.field == "pilot" and "不在本级立项" in error.message, error
    assert the_line(text, error) == "[pilot]"


def test_programme_show_says_what_the_round_inherits_and_what_confirmation_does(city_round):
    out = io.StringIO()
    call_command("programme", "show", "example-city-round", "--format", "json", stdout=out)
    parent = json.loads(out.getvalue())["parent"]
    assert parent["inherited"] == {
        "top": ["forms", "topics", "lists"],
        "categories": {"school": list(cascade.CATEGORY_INHERITED)},
    }
    assert parent["end_state"]["state"] == AppState.FORWARDED
    assert parent["end_state"]["label"] == AppState.FORWARDED.label
    out = io.StringIO()
    call_command("programme", "show", "example-city-round", stdout=out)
    text = out.getvalue()
    assert "沿用上级项目：forms、topics、lists" in text
    assert "类别 school 沿用上级项目：name、description、applicant_kinds" in text
    assert "确认后：公示期满、公布最终名单时，名单中的申报状态变为“已推荐至上级”" in text
    assert "本项目不为其建立试点" in text
