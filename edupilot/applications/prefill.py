"""What a form takes from the applicant's record in the org tree (``prefill = "org.…"``).

``prefilled`` fills a new draft. A field with ``locked = true`` is not the applicant's to
change while the org knows its value: ``locked_values`` gives those values, and the services
put them back over whatever was posted at every save and again at submission (the org's
record may have been corrected meanwhile). The school type of a primary school is therefore
小学 and its 所在地区 its county, whatever the form was sent with.
"""

from __future__ import annotations

from edupilot.orgs.models import Org, OrgKind
from edupilot.programmes import schema
from edupilot.programmes.folds import plain_lineage

ATTRS = {
    "name", "code", "address", "postcode", "website", "locality", "ownership",
    "bandwidth_mbps", "teacher_count", "student_count", "computer_count",
}  # fmt: skip
COUNTY_KINDS = {OrgKind.COUNTY, OrgKind.ZONE}
TREE_SOURCES = {"org.county", "org.area"}
CITY_DIRECT = "市直"


def county_name(lineage: list[Org]) -> str:
    """所在县（市、区）: the nearest county or functional zone (the org itself included);
    市直 for a unit straight under a city; empty when the tree does not say."""
    for o in lineage:
        if o.kind in COUNTY_KINDS:
            return o.name
        if o.kind == OrgKind.CITY:
            return CITY_DIRECT if o is not lineage[0] else ""
    return ""


def area_name(lineage: list[Org]) -> str:
    """所在地区 in full: the city and county above the org (杭州市西湖区); the province for a
    unit straight under it."""
    admin = [o for o in lineage if o.kind in (OrgKind.CITY, *COUNTY_KINDS)]
    if admin:
        return "".join(o.name for o in reversed(admin))
    province = next((o for o in lineage if o.kind == OrgKind.PROVINCE), None)
    return province.name if province is not None else ""


def _stages_value(f, org: Org):
    stages = set(org.stage_list)
    if f.type != "choice":
        return org.stage_list or None
    picked = [o.value for o in f.options if stages & set(o.stages or [o.value])]
    if not picked:
        return None
    if f.multiple:
        return picked
    return picked[0] if len(picked) == 1 else None


def _value(f, org: Org, lineage: list[Org] | None):
    attr = f.prefill[4:]
    if attr in ATTRS:
        value = getattr(org, attr, None)
        return None if value in (None, "") else value
    if attr == "stages":
        return _stages_value(f, org)
    if attr == "county":
        return county_name(lineage) or None
    if attr == "area":
        return area_name(lineage) or None
    return None


def _values(form: schema.Form, org: Org, only_locked: bool) -> dict:
    fields = [
        f
        for f in form.all_fields()
        if f.prefill and f.prefill.startswith("org.") and (f.locked or not only_locked)
    ]
    lineage = plain_lineage(org) if any(f.prefill in TREE_SOURCES for f in fields) else None
    out = {}
    for f in fields:
        value = _value(f, org, lineage)
        if value is not None:
            out[f.key] = value
    return out


def prefilled(form: schema.Form, org: Org) -> dict:
    """A new draft's data: every field the org's record can fill."""
    return _values(form, org, only_locked=False)


def locked_values(form: schema.Form, org: Org) -> dict:
    """The locked fields the org's record fills, with the org's values."""
    return _values(form, org, only_locked=True)
