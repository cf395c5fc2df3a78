"""The pilot-reporting table of a city's dashboard, by county, on tests/pilots' Quanzhou world:
the same on-time / late / missing counts as pilots.reports.completeness, and in the XLSX."""

from __future__ import annotations

import io

import openpyxl
import pytest

from edupilot.dashboards import selectors
from edupilot.dashboards.tables import TableExport
from tests.pilots.submissions_world import build
from tests.pilots.test_reports import at, hand_in

pytestmark = pytest.mark.django_db


def test_reporting_by_county(seeded):
    qz = build()
    hand_in(qz, 0, "2026-03", at(2026, 3, 20))
    hand_in(qz, 0, "2026-04", at(2026, 4, 26))  # a day late
    hand_in(qz, 2, "2026-04", at(2026, 4, 25, 18))
    now = at(2026, 6, 1)  # March, April and May are due; June is not
    scope = qz.scope("city_admin")
    org = selectors.dashboard_org(scope)
    data = selectors.dashboard(scope, org, {"programme": qz.programme.pk}, now=now)
    assert data.programme == qz.programme
    table = data.table("reporting")
    by = {r[0]: r[1:] for r in table.rows}
    # county 0: two pilots, 6 periods due: 1 on time, 1 late, 4 missing; county 1: one pilot.
    assert by[qz.counties[0].name] == [2, 6, 1, 1, 4, pytest.approx(2 / 6)]
    assert by[qz.counties[1].name] == [1, 3, 1, 0, 2, pytest.approx(1 / 3)]
    assert table.total[1:6] == [3, 9, 2, 1, 6]

    # The county's own dashboard: by school, only its own pilots.
    county = qz.scope("county1_admin")
    mine = selectors.dashboard(
        county, selectors.dashboard_org(county), {"programme": qz.programme.pk}, now=now
    )
    assert [r[0] for r in mine.table("reporting").rows if r[1]] == [qz.schools[2].name]

    buf = io.BytesIO()
    TableExport(table, "泉州试点上报").write(buf)
    sheet = list(openpyxl.load_workbook(io.BytesIO(buf.getvalue())).active.values)
    assert sheet[1] == tuple(table.headers)
    assert sheet[2][:6] == (qz.counties[0].name, 2, 6, 1, 1, 4)
    assert sheet[-1][:6] == ("合计", 3, 9, 2, 1, 6)
