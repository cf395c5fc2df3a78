"""``quotas._split_shared``: the conditions a quota's use and a level's ranks share go once
into the aggregate's WHERE; anything else is left as it was (the counts stay exact)."""

from django.db.models import Q

from edupilot.review.quotas import _split_shared


def test_shared_conditions_are_taken_out_of_both_filters():
    holders = Q(programme_id=1, category="a", quota_level="city", active=True)
    level = Q(programme_id=1, category="a", level="city", org_id=7, active=True)
    shared, first, second = _split_shared(holders, level)
    assert set(shared.children) == {("programme_id", 1), ("category", "a"), ("active", True)}
    assert first.children == [("quota_level", "city")]
    assert set(second.children) == {("level", "city"), ("org_id", 7)}


def test_nothing_is_shared_when_a_condition_is_not_a_plain_and():
    plain = Q(programme_id=1, category="a")
    for other in (
        Q(programme_id=1) | Q(category="a"),
        ~Q(programme_id=1, category="b"),
        Q(Q(programme_id=1), category="a"),
    ):
        assert _split_shared(plain, other) == (Q(), plain, other)
        assert _split_shared(other, plain) == (Q(), other, plain)


def test_nothing_is_shared_when_a_filter_would_be_left_empty_or_values_are_lists():
    narrow = Q(programme_id=1, category="a", level="city")
    wide = Q(programme_id=1, category="a")
    assert _split_shared(narrow, wide) == (Q(), narrow, wide)
    assert _split_shared(wide, narrow) == (Q(), wide, narrow)
    listed = Q(programme_id__in=[1, 2], category="a")
    assert _split_shared(listed, Q(programme_id__in=[1, 2], level="x")) == (
        Q(),
        listed,
        Q(programme_id__in=[1, 2], level="x"),
    )
