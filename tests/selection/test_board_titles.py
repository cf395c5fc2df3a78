"""The issuer's ranking board names the titles an applicant holds, with the badge the review
queue shows (``[[categories.titles]]``), beside the unit's name; the ranking order stays the
board's own."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from edupilot.orgs.models import Role
from edupilot.selection import board
from tests.review.test_titles_and_directions import BADGE, hold_title, load_titled

from .test_experts_support import henan_school, who

pytestmark = pytest.mark.django_db


def test_the_board_shows_the_title_badge_beside_its_holder_only(client, seeded):
    henan = load_titled()
    plain = henan_school(henan, name="金水区榜单普通小学")
    titled = henan_school(henan, name="金水区榜单示范小学")
    hold_title(titled)
    order = [r.application.pk for b in board.selection_board(henan, None) for r in b.rows]
    assert set(order) == {plain.pk, titled.pk}

    client.force_login(who("410000", Role.PROGRAMME_ADMIN).user)
    response = client.get(reverse("selection:selection", args=[henan.pk]))
    html = response.content.decode()
    assert f'金水区榜单示范小学</a> <span class="badge ok">{BADGE}</span>' in html
    assert html.count(BADGE) == 1
    assert "金水区榜单普通小学</a><" in html.replace("\n", "")
    # The rows in the board's order, untouched.
    shown = [r.application.pk for b in response.context["boards"] for r in b.rows]
    assert shown == order
    names = re.findall(r"金水区榜单(示范|普通)小学</a>", html)
    by_pk = {plain.pk: "普通", titled.pk: "示范"}
    assert names == [by_pk[pk] for pk in order]
