"""Scoped reads for applications, and the facts eligibility rules are decided on."""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass, field

from django.db.models import IntegerField, Prefetch, QuerySet, Value
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from edupilot.core.prepared import prepared
from edupilot.orgs.models import TREE_FIELDS, Org, OrgKind, Stage, subtree_q
from edupilot.orgs.scoping import Scope, access, scoped
from edupilot.programmes import rules, schema
from edupilot.programmes.models import ParticipantEntry, Programme
from edupilot.programmes.selectors import open_programmes_covering, programmes_concerning

from .models import Application, ApplicationMember, ApplicationVersion, AppState, Attachment

# Applications that count against exclusivity rules (a school in a region bid and a school
# bid): drafts and withdrawn, refused or not-recommended bids do not.
ACTIVE_STATES = (
    AppState.SUBMITTED,
    AppState.RETURNED,
    AppState.RECOMMENDED,
    AppState.APPROVED,
    AppState.PILOT,
    AppState.FORWARDED,
)


def applications_for(scope: Scope, programmes=None) -> QuerySet[Application]:
    """Every application ``scope`` may see; the one entry point from a request to applications.

    ``programmes``: the active programmes (read with their ``source_sha256``) a caller that
    keeps only their applications has in hand: the scope's folds are read from them, one
    query fewer. The result must then be filtered to those programmes."""
    if programmes is None:
        return scoped(Application.objects.all(), scope, org_field="applicant_org")
    return scoped(
        Application.objects.filter(programme__in=[p.pk for p in programmes]),
        scope,
        org_field="applicant_org",
        programmes=programmes,
    )


def access_application(scope: Scope, pk) -> Application:
    return access(
        Application.objects.select_related("programme", "applicant_org", "current_org"),
        scope,
        pk,
        org_field="applicant_org",
    )


def round_links(scope: Scope, application: Application) -> dict:
    """Between a round and its parent programme (selection/cascade.py), the applications the
    scope may open: ``forwarded_to``, where a round's confirmed (FORWARDED) application went;
    ``from_round``, the round's application a parent's came from. No query otherwise."""
    links = {"forwarded_to": None, "from_round": None}
    if application.state == AppState.FORWARDED:
        links["forwarded_to"] = (
            applications_for(scope)
            .select_related("programme")
            .filter(from_round=application)
            .first()
        )
    if application.from_round_id:
        links["from_round"] = (
            applications_for(scope)
            .select_related("programme")
            .filter(pk=application.from_round_id)
            .first()
        )
    return links


# The applicant and its ancestors up to a school's depth under a zone (root, city, county,
# zone): the quota bucket's lineage then needs no query of its own (folds.plain_lineage).
APPLICANT_LINEAGE = "applicant_org__parent__parent__parent__parent"


@functools.cache
def _detail_fields() -> tuple[str, ...]:
    """The columns of the application page's query: the application and its applicant
    whole, the programme without its file and JSON, of each ancestor only
    :data:`~edupilot.orgs.models.TREE_FIELDS` — their contacts, counts and JSON attributes (80 columns) were a
    quarter of the query's compile time and rows — and of the current org its name, all the
    page shows of it (27 columns fewer to compile and load)."""

    def names(model, prefix="", skip=()):
        return [prefix + f.name for f in model._meta.concrete_fields if f.name not in skip]

    out = names(Application) + names(Programme, "programme__", ("spec", "source_text"))
    out += names(Org, "applicant_org__") + ["current_org__name"]
    for depth in range(1, APPLICANT_LINEAGE.count("__parent") + 1):
        out += ["applicant_org" + "__parent" * depth + "__" + f for f in TREE_FIELDS]
    return tuple(out)


# What the record of submissions reads of a version's submitter (its name, the handover
# mark): not the password hash, dates and flags of the user row.
_VERSION_FIELDS = tuple(f.name for f in ApplicationVersion._meta.concrete_fields) + (
    "submitted_by__username",
    "submitted_by__full_name",
    "submitted_by__ever_handed_down",
)


def application_detail(scope: Scope, pk) -> Application:
    """One application with everything its page shows, in a fixed number of queries.

    The programme comes without its file (``source_text``) and its JSON (``spec``): the page
    reads the parsed spec, which the process keeps by the file's hash."""
    # The scope decides in SQL whether the row may be read at all (a small query compiled per
    # request: the scope's conditions differ by user); the row with its seven joined models
    # is then read by its key, compiled once per process.
    try:
        pk = int(pk)
    except (TypeError, ValueError) as exc:
        raise Http404 from exc
    if not applications_for(scope).filter(pk=pk).exists():
        raise Http404
    app = next(iter(_detail_row(pk)), None)
    if app is None:  # deleted in between
        raise Http404
    app.current_attachments = list(_current_attachments(app.pk))
    # Member schools only where the form names them (a region bid); a school bid has none.
    category = app.category_spec
    named = category is None or any(
        f.type == "members" for f in app.programme.parsed.form_for(category).all_fields()
    )
    app.member_orgs = (
        list(Org.objects.filter(memberships_in_bids__application=app).order_by("path"))
        if named
        else []
    )
    app.version_list = list(_versions(app.pk))
    return app


@prepared
def _detail_row(pk: int):
    return (
        Application.objects.filter(pk=pk)
        .select_related("programme", APPLICANT_LINEAGE, "current_org")
        .only(*_detail_fields())
    )


@prepared
def _current_attachments(application_id: int):
    return Attachment.objects.filter(application_id=application_id, is_current=True).select_related(
        "blob"
    )


@prepared
def _versions(application_id: int):
    return (
        ApplicationVersion.objects.filter(application_id=application_id)
        .order_by("-number")
        .select_related("submitted_by")
        .only(*_VERSION_FIELDS)
    )


HOME_FIELDS = (
    "programme__title",
    "programme__source_sha256",
    "category",
    "state",
    "version",
    "updated_at",
)


def applications_of_org(scope: Scope) -> QuerySet[Application]:
    return (
        applications_for(scope)
        .filter(applicant_org_id=scope.org_id)
        .select_related("programme")
        # A list of bids: what the home page shows of each and what its choices match them
        # on (not their forms, nor the programme's file and JSON: the category's name comes
        # from the spec the process keeps by the file's hash).
        .only(*HOME_FIELDS)
        .order_by("-updated_at")
    )


# --- rule context -------------------------------------------------------------------------


def _lists_by_org(org_ids: list[int]) -> dict[int, dict[str, str]]:
    out: dict[int, dict[str, str]] = {}
    for org_id, code, status in ParticipantEntry.objects.filter(org_id__in=org_ids).values_list(
        "org_id", "plist__code", "status"
    ):
        out.setdefault(org_id, {})[code] = status
    return out


def school_count(org: Org) -> int:
    if org.kind == OrgKind.SCHOOL:
        return 0
    return Org.objects.filter(subtree_q(org.path), kind=OrgKind.SCHOOL, is_active=True).count()


def org_facts(
    org: Org,
    lists: dict[str, str] | None = None,
    with_school_count: bool = True,
    needed: set[str] | None = None,
) -> dict:
    """The org as rules see it. ``needed`` (see :func:`facts_needed`): the facts that cost a
    query are computed only if named there (None: all of them)."""
    if lists is None:
        lists = (
            _lists_by_org([org.pk]).get(org.pk, {}) if needed is None or "lists" in needed else {}
        )
    if needed is not None and "school_count" not in needed:
        with_school_count = False
    parent_tier = ""
    if org.parent_id and (needed is None or "parent_tier" in needed):
        parent_tier = org.parent.tier
    return {
        "code": org.code,
        "name": org.name,
        "kind": org.kind,
        "tier": org.tier,
        # Tells a city-direct school ("city") from a county's ("county"): Quanzhou admits
        # different schools from each (see programmes/rules.py for the variables).
        "parent_tier": parent_tier,
        "stages": org.stage_list,
        "ownership": org.ownership,
        "locality": org.locality,
        "bandwidth_mbps": org.bandwidth_mbps or 0,
        "teacher_count": org.teacher_count or 0,
        "student_count": org.student_count or 0,
        "computer_count": org.computer_count or 0,
        "school_count": school_count(org) if with_school_count else 0,
        "lists": sorted(lists),
        "list_status": dict(lists),
        "extra": {
            k: v for k, v in (org.extra or {}).items() if isinstance(v, str | int | float | bool)
        },
    }


def applicant_facts(
    programme: Programme,
    org: Org,
    exclude_pk: int | None = None,
    needed: set[str] | None = None,
) -> dict:
    """The applicant's bids as rules see them; a fact not ``needed`` stays empty and its
    query is not even built (the home page reads one of the two)."""
    out: dict[str, list] = {"applications": [], "member_of": []}
    if needed is None or "applications" in needed:
        own = Application.objects.filter(programme=programme, applicant_org=org)
        if exclude_pk is not None:
            own = own.exclude(pk=exclude_pk)
        out["applications"] = [
            {"category": c, "state": s} for c, s in own.values_list("category", "state")
        ]
    if needed is None or "member_of" in needed:
        member_of = ApplicationMember.objects.filter(
            org=org, application__programme=programme, application__state__in=ACTIVE_STATES
        )
        if exclude_pk is not None:
            member_of = member_of.exclude(application_id=exclude_pk)
        out["member_of"] = [
            {"category": c, "state": s}
            for c, s in member_of.values_list("application__category", "application__state")
        ]
    return out


def members_facts(programme: Programme, application: Application) -> list[dict]:
    members = list(
        Org.objects.filter(memberships_in_bids__application=application).order_by("path")
    )
    ids = [m.pk for m in members]
    lists = _lists_by_org(ids)
    applied: dict[int, set[str]] = {}
    for org_id, category in (
        Application.objects.filter(
            programme=programme, applicant_org_id__in=ids, state__in=ACTIVE_STATES
        )
        .exclude(pk=application.pk)
        .values_list("applicant_org_id", "category")
    ):
        applied.setdefault(org_id, set()).add(category)
    return [
        {
            "code": m.code,
            "name": m.name,
            "kind": m.kind,
            "locality": m.locality,
            "stages": m.stage_list,
            "lists": sorted(lists.get(m.pk, {})),
            "applied_categories": sorted(applied.get(m.pk, set())),
        }
        for m in members
    ]


# The facts that cost a query, and how a rule names them. A rule naming ``org`` or
# ``applicant`` other than through a field (``org[...]``, ``org.exists(...)``) gets them all.
_COSTLY_FACTS = {
    "lists": re.compile(r"\blists?\b|\blist_status\b"),
    "parent_tier": re.compile(r"\bparent_tier\b"),
    "school_count": re.compile(r"\bschool_count\b"),
    "applications": re.compile(r"\bapplications\b"),
    "member_of": re.compile(r"\bmember_of\b"),
}
_WHOLE = re.compile(r"\b(org|applicant)\b(?!\s*\.\s*[a-z_])")


def facts_needed(exprs) -> set[str] | None:
    """Which costly facts ``exprs`` (CEL rule expressions) can read; None for all of them."""
    needed: set[str] = set()
    for expr in exprs:
        if _WHOLE.search(expr):
            return None
        needed.update(name for name, pattern in _COSTLY_FACTS.items() if pattern.search(expr))
    return needed


def rule_context(
    programme: Programme,
    org: Org,
    application: Application | None = None,
    needed: set[str] | None = None,
) -> dict:
    """What rules see. ``needed`` (:func:`facts_needed` of the rules to run) leaves out the
    facts no rule reads (they stay empty); None computes them all."""
    ctx = {
        "org": org_facts(org, needed=needed),
        "applicant": applicant_facts(
            programme, org, exclude_pk=application.pk if application else None, needed=needed
        ),
        "programme": {"code": programme.code},
    }
    if application is not None:
        ctx["app"] = {
            "category": application.category,
            "topic": application.topic,
            "data": application.data,
            "members": members_facts(programme, application),
        }
    return ctx


# --- eligibility --------------------------------------------------------------------------

KIND_LABELS = dict(OrgKind.choices)
STAGE_LABELS = dict(Stage.choices)


@dataclass
class CategoryChoice:
    programme: Programme
    category: schema.Category
    failures: list[rules.RuleResult] = field(default_factory=list)
    warnings: list[rules.RuleResult] = field(default_factory=list)
    application: Application | None = None

    @property
    def eligible(self) -> bool:
        return not self.failures

    @property
    def closes_at(self) -> dt.datetime | None:
        return self.programme.category_closes_at(self.category.code)


def structural_checks(
    programme: Programme, category: schema.Category, org: Org
) -> list[rules.RuleResult]:
    """What the category's declared applicants say, before any rule."""
    out = []
    if org.kind not in category.applicant_kinds:
        who = _("、").join(str(KIND_LABELS.get(k, k)) for k in category.applicant_kinds)
        out.append(
            rules.RuleResult("kind", False, _("本类别的申报单位为：%(kinds)s。") % {"kinds": who})
        )
    elif (
        category.stages
        and org.kind == OrgKind.SCHOOL
        and not set(category.stages) & set(org.stage_list)
    ):
        stages = _("、").join(str(STAGE_LABELS.get(s, s)) for s in category.stages)
        out.append(
            rules.RuleResult(
                "stage",
                False,
                _("本类别面向的学段：%(stages)s；本单位登记的学段不在其中。") % {"stages": stages},
            )
        )
    if not org.is_within(programme.issuer):
        out.append(
            rules.RuleResult(
                "region",
                False,
                _("本项目面向%(issuer)s所辖单位。") % {"issuer": programme.issuer.name},
            )
        )
    return out


def category_eligibility(
    programme: Programme, category: schema.Category, org: Org, ctx: dict | None = None
) -> CategoryChoice:
    choice = CategoryChoice(programme, category)
    choice.failures = structural_checks(programme, category, org)
    if not choice.failures:
        _judge(choice, ctx if ctx is not None else rule_context(programme, org))
    return choice


def _judge(choice: CategoryChoice, ctx: dict) -> None:
    """The category's eligibility rules on ``ctx``: a failed one refuses, a warning warns."""
    for result in rules.evaluate_all(choice.category.rules, ctx, "eligibility"):
        if not result.ok:
            (choice.warnings if result.severity == "warn" else choice.failures).append(result)


def access_programme_to_apply(scope: Scope, code) -> Programme:
    """An active programme open to the scope's org, by code; 404 for any other (existence hidden)."""
    programme = (
        programmes_concerning(scope)
        .filter(is_active=True, code=code or "")
        .select_related("issuer")
    ).first()
    if programme is None:
        raise Http404
    return programme


def choices_for_org(
    org: Org, now: dt.datetime | None = None, applications: list[Application] | None = None
) -> list[CategoryChoice]:
    """Every category of every open programme this org falls under, eligible or not, with why.

    ``applications``: the org's applications when the caller has them already (the home
    page lists them): each choice's own bid is found among them instead of asked again, and
    so are the bids the rules read (``applicant.applications``)."""
    now = now or timezone.now()
    programmes = open_programmes_covering(org, now)
    if applications is None:
        applications = list(
            Application.objects.filter(applicant_org=org, programme__in=programmes).only(
                "programme_id", "category", "state", "version"
            )
        )
    open_ids = {p.pk for p in programmes}
    existing = {
        (a.programme_id, a.category): a
        for a in applications  # one per programme and category (application_unique)
        if a.programme_id in open_ids
    }
    out = []
    for programme in programmes:
        for category in programme.parsed.categories:
            if org.kind not in category.applicant_kinds or not programme.is_open_for(
                category.code, now
            ):
                continue
            choice = CategoryChoice(programme, category)
            choice.failures = structural_checks(programme, category, org)
            choice.application = existing.get((programme.pk, category.code))
            out.append(choice)
    to_judge = [c for c in out if not c.failures]
    if to_judge:
        contexts = eligibility_contexts(
            org, [c.programme for c in to_judge], [c.category for c in to_judge], applications
        )
        for choice in to_judge:
            _judge(choice, contexts[choice.programme.pk])
    return out


@prepared
def _lists_and_bids_naming(org_id: int, lists: bool, member_of: bool) -> QuerySet:
    """The org's participant lists (code, status, NULL) and the active bids of others that
    name it as a member (category, state, programme), those of the two asked for, as one
    read: the two reads joined by UNION ALL (a list's row has no programme). The bids of
    every programme: a list of programmes (``__in``) would not compile once (core.prepared);
    the caller keeps those it asked for."""
    reads = []
    if lists:
        reads.append(
            ParticipantEntry.objects.filter(org_id=org_id).values_list(
                "plist__code", "status", Value(None, output_field=IntegerField())
            )
        )
    if member_of:
        reads.append(
            ApplicationMember.objects.filter(
                org_id=org_id, application__state__in=ACTIVE_STATES
            ).values_list(
                "application__category", "application__state", "application__programme_id"
            )
        )
    # The expression comes last on both sides: a values_list's columns are its fields, then
    # its expressions, and UNION matches them by position.
    return reads[0].union(*reads[1:], all=True)


def _lists_and_memberships(
    org: Org, programme_pks: list[int], needed: set[str] | None
) -> tuple[dict[str, str], dict[int, list[dict]]]:
    """The org's participant lists (code -> status) and, by programme (of
    ``programme_pks``), the active bids of others that name it as a member — those of the
    two ``needed`` — in one round trip."""
    lists: dict[str, str] = {}
    member_of: dict[int, list[dict]] = {pk: [] for pk in programme_pks}
    want_lists = needed is None or "lists" in needed
    want_member_of = needed is None or "member_of" in needed
    if not (want_lists or want_member_of):
        return lists, member_of
    for key, value, programme_pk in _lists_and_bids_naming(org.pk, want_lists, want_member_of):
        if programme_pk is None:
            lists[key] = value
        elif programme_pk in member_of:
            member_of[programme_pk].append({"category": key, "state": value})
    return lists, member_of


def eligibility_contexts(
    org: Org,
    programmes: list[Programme],
    categories: list[schema.Category],
    applications: list[Application],
) -> dict[int, dict]:
    """What the eligibility rules of ``categories`` see, by programme: :func:`rule_context`
    for several programmes at once. Only the facts those rules read (:func:`facts_needed`),
    each asked once whatever the number of programmes: the org's facts are the same for
    all, its memberships in others' bids are one query, and its own bids are
    ``applications`` (all of the org's bids in these programmes)."""
    needed = facts_needed(r.expr for c in categories for r in c.rules if r.phase == "eligibility")
    pks = list(dict.fromkeys(p.pk for p in programmes))
    lists, member_of = _lists_and_memberships(org, pks, needed)
    facts = org_facts(org, lists=lists, needed=needed)
    own: dict[int, list[dict]] = {pk: [] for pk in pks}
    if needed is None or "applications" in needed:
        for a in applications:
            if a.programme_id in own:
                own[a.programme_id].append({"category": a.category, "state": a.state})
    return {
        p.pk: {
            "org": facts,
            "applicant": {"applications": own[p.pk], "member_of": member_of[p.pk]},
            "programme": {"code": p.code},
        }
        for p in programmes
    }


def access_attachment(scope: Scope, application_pk, attachment_pk) -> Attachment:
    """One uploaded file, through its application's scope; 404 otherwise."""
    application = access_application(scope, application_pk)
    att = (
        Attachment.objects.select_related("blob")
        .filter(pk=attachment_pk, application=application)
        .first()
    )
    if att is None:
        raise Http404
    return att


def attachments_prefetch() -> Prefetch:
    return Prefetch(
        "attachments", queryset=Attachment.objects.filter(is_current=True).select_related("blob")
    )
