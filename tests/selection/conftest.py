"""Fixtures shared by the selection tests: a province's call and a city round under it
(tests/selection/test_cascade.py builds their files)."""

import pytest

from tests.programme_files import load_text
from tests.selection.test_cascade import ROUND, province_text


@pytest.fixture
def province(seeded):
    return load_text(province_text(), "province.toml")


@pytest.fixture
def city_round(province):
    return load_text(ROUND.format(cap=""), "round.toml")
