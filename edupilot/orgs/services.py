"""Writes to the org tree: roster imports, moves, attribute edits. Each one is audited."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import F, Value
from django.db.models.functions import Concat, Substr
from django.utils import timezone
from django.utils.translation import gettext as _

from edupilot.audit.services import Actor, audit_record, diff

from . import permissions
from .importer import COLUMN_BY_FIELD, ImportFileError, RowError, parse_table
from .models import ADMIN_KINDS, Org, OrgKind, path_within, subtree_q, tier_for
from .scoping import Scope
from .signals import subtree_moved

__all__ = [
    "ImportFileError",
    "ImportReport",
    "OrgChangedError",
    "OrgMoveError",
    "org_move",
    "org_update",
    "orgs_import",
]

# How many codes an import's audit event lists by name; the counts are always complete.
AUDIT_CODE_LIMIT = 500
_CHUNK = 900  # stays under SQLite's host-parameter limit on old builds


class OrgMoveError(ValueError):
    pass


class OrgChangedError(Exception):
    """The org changed since the form was loaded; the edit would overwrite someone's change."""


# --- import -------------------------------------------------------------------------------------


@dataclass
class RowChange:
    row: int
    code: str
    name: str
    action: str  # "added", "updated"
    before: dict = field(default_factory=dict)
    after: dict = field(default_factory=dict)

    @property
    def lines(self) -> list[str]:
        """ "字段：旧值 → 新值" for each changed field, for people to read."""
        out = []
        for f, new in self.after.items():
            label = COLUMN_BY_FIELD[f].label if f in COLUMN_BY_FIELD else f
            if f == "extra":
                label = "附加信息"
            old = self.before.get(f)
            out.append(f"{label}：{'' if old in (None, '') else old} → {new}")
        return out


@dataclass
class ImportReport:
    filename: str
    sha256: str
    dry_run: bool
    strict: bool = False
    total_rows: int = 0
    added: int = 0
    updated: int = 0
    moved: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    changes: list[RowChange] = field(default_factory=list)
    labels: dict[int, str] = field(default_factory=dict)
    written: bool = False
    audit_event_id: int | None = None

    @property
    def refused_rows(self) -> list[int]:
        return sorted({e.row for e in self.errors})

    def refused_lines(self) -> list[str]:
        """One line per refused row, in file order: the row, its code and name as written,
        and every reason ("第5行 T4102250004 坏学段：未导入。“学段”列：…；“邮编”列：…")."""
        by_row: dict[int, list[RowError]] = defaultdict(list)
        for e in self.errors:
            by_row[e.row].append(e)
        out = []
        for row in sorted(by_row):
            label = self.labels.get(row, "")
            reasons = "；".join(
                f"“{e.column}”列：{e.reason}" if e.column else e.reason for e in by_row[row]
            )
            out.append(
                _("第%(row)s行%(label)s：未导入。%(reasons)s")
                % {"row": row, "label": " " + label if label else "", "reasons": reasons}
            )
        return out

    @property
    def refused(self) -> int:
        return len(self.refused_rows)

    @property
    def changed(self) -> int:
        return self.added + self.updated

    def summary(self) -> str:
        lines = [
            _(
                "文件 %(filename)s（sha256 %(sha256)s…）：共 %(total_rows)s 行数据，新增 %(added)s，更新 %(updated)s（其中调整隶属 %(moved)s），无变化 %(unchanged)s，拒绝 %(refused)s。"
            )
            % {
                "filename": self.filename,
                "sha256": self.sha256[:12],
                "total_rows": self.total_rows,
                "added": self.added,
                "updated": self.updated,
                "moved": self.moved,
                "unchanged": self.unchanged,
                "refused": self.refused,
            }
        ]
        if self.dry_run:
            lines.append(_("检查模式：未写入任何数据。"))
        elif self.strict and self.errors:
            lines.append(_("严格模式下存在被拒绝的行，未写入任何数据。"))
        elif not self.changed:
            lines.append(_("文件内容与现有数据一致，未作任何更改。"))
        return "\n".join(lines)


@dataclass
class _Plan:
    row: int
    code: str
    existing: Org | None
    values: dict
    extra: dict
    parent_org: Org | None = None  # resolved parent in the database
    parent_code: str | None = None  # a parent created by this same file
    kind: str = OrgKind.SCHOOL


def _fetch_by_codes(codes) -> dict[str, Org]:
    codes = list(codes)
    out: dict[str, Org] = {}
    for i in range(0, len(codes), _CHUNK):
        for o in Org.objects.filter(code__in=codes[i : i + _CHUNK]):
            out[o.code] = o
    return out


def _col(table, field_name: str) -> str:
    return table.columns.get(field_name, COLUMN_BY_FIELD[field_name].label)


def _resolve_parents(table, plans: dict[str, _Plan], root: str | None, errors: list[RowError]):
    """Find every row's parent: a code in the file, a code in the tree, or a unique name."""
    refs = {r.parent_ref for r in table.rows if r.parent_ref}
    by_code = _fetch_by_codes(refs - set(plans))
    unresolved = refs - set(plans) - set(by_code)
    by_name: dict[str, list[Org]] = defaultdict(list)
    if unresolved:
        names = list(unresolved)
        for i in range(0, len(names), _CHUNK):
            for o in Org.objects.filter(name__in=names[i : i + _CHUNK]).exclude(
                kind=OrgKind.SCHOOL
            ):
                if root is None or path_within(o.path, root):
                    by_name[o.name].append(o)
    col = _col(table, "parent")
    for r in table.rows:
        plan = plans.get(r.code)
        if plan is None:
            continue
        ref = r.parent_ref
        if not ref:
            if plan.existing is None:
                errors.append(RowError(r.row, col, _("新机构须填写上级机构代码")))
                plans.pop(r.code)
            continue
        if ref in plans:
            reason = ""
            if ref == r.code:
                reason = _("上级机构不能是它自己")
            elif plans[ref].kind == OrgKind.SCHOOL:
                reason = _("上级机构不能是学校（第%(row)s行）") % {"row": plans[ref].row}
            if reason:
                errors.append(RowError(r.row, col, reason))
                plans.pop(r.code)
                continue
            plan.parent_code = ref
            continue
        parent = by_code.get(ref)
        if parent is None:
            candidates = by_name.get(ref, [])
            if len(candidates) > 1:
                errors.append(
                    RowError(
                        r.row,
                        col,
                        _("名称为“%(ref)s”的上级机构不止一个，请填写上级机构代码") % {"ref": ref},
                    )
                )
                plans.pop(r.code)
                continue
            parent = candidates[0] if candidates else None
        if parent is None:
            errors.append(RowError(r.row, col, _("上级机构“%(ref)s”不存在") % {"ref": ref}))
            plans.pop(r.code)
            continue
        reason = ""
        if parent.kind == OrgKind.SCHOOL:
            reason = _("上级机构不能是学校")
        elif parent.kind == OrgKind.GROUP:
            reason = _(
                "上级机构不能是教育集团（校区挂在所在地的教育部门之下，所属集团在机构页设置）"
            )
        elif root is not None and not path_within(parent.path, root):
            reason = _("上级机构“%(ref)s”不在您的管辖范围内") % {"ref": ref}
        elif plan.existing is not None and parent.is_within(plan.existing):
            reason = _("不能把机构移到它自己的下级机构之下")
        if reason:
            errors.append(RowError(r.row, col, reason))
            plans.pop(r.code)
            continue
        plan.parent_org = parent


def _drop_orphans(table, plans: dict[str, _Plan], errors: list[RowError]) -> dict[str, int]:
    """Refuse rows whose in-file parent was refused or that form a cycle; return depths."""
    col = _col(table, "parent")
    depth: dict[str, int] = {}
    rows_by_code = {r.code: r.row for r in table.rows}

    def walk(code: str, trail: tuple[str, ...]) -> int | None:
        if code in depth:
            return depth[code]
        plan = plans.get(code)
        if plan is None:
            return None
        if plan.parent_code is None:
            depth[code] = 0
            return 0
        if plan.parent_code in trail:
            return -1
        d = walk(plan.parent_code, (*trail, code))
        if d is None or d < 0:
            return d
        depth[code] = d + 1
        return d + 1

    for code in list(plans):
        plan = plans.get(code)
        if plan is None or code in depth:
            continue
        d = walk(code, ())
        if d is None:
            errors.append(
                RowError(
                    plan.row,
                    col,
                    _("上级机构（第%(row)s行）未通过检查")
                    % {"row": rows_by_code.get(plan.parent_code, "?")},
                )
            )
            plans.pop(code)
        elif d < 0:
            errors.append(RowError(plan.row, col, _("上级机构关系成环")))
            plans.pop(code)
    # A refusal above may orphan rows already walked; repeat until nothing changes.
    while True:
        orphans = [c for c, p in plans.items() if p.parent_code and p.parent_code not in plans]
        if not orphans:
            break
        for c in orphans:
            p = plans.pop(c)
            errors.append(
                RowError(
                    p.row,
                    col,
                    _("上级机构（第%(row)s行）未通过检查") % {"row": rows_by_code[p.parent_code]},
                )
            )
    return depth


def _changes_for(plan: _Plan) -> tuple[dict, dict]:
    org = plan.existing
    before: dict = {}
    after: dict = {}
    for f, v in plan.values.items():
        current = getattr(org, f)
        if current != v:
            before[f], after[f] = current, v
    if plan.extra:
        merged = {**org.extra, **plan.extra}
        if merged != org.extra:
            before["extra"], after["extra"] = org.extra, merged
    if plan.parent_code is not None and plan.parent_code != getattr(org.parent, "code", None):
        before["parent"], after["parent"] = getattr(org.parent, "code", None), plan.parent_code
    elif plan.parent_org is not None and plan.parent_org.pk != org.parent_id:
        before["parent"] = getattr(org.parent, "code", None)
        after["parent"] = plan.parent_org.code
    return before, after


def orgs_import(
    *,
    data: bytes,
    filename: str,
    actor: Actor,
    scope: Scope | None = None,
    dry_run: bool = False,
    strict: bool = False,
) -> ImportReport:
    """Add or update orgs by code from a roster; refuse bad rows with their reasons.

    Valid rows are written in one transaction (``strict``: nothing is written when any row
    is refused). Importing the same file again changes nothing. ``scope`` limits the rows
    to the importer's subtree; ``None`` is the command line. Raises ImportFileError when the
    file as a whole cannot be read.
    """
    allowed, reason = permissions.can_import(scope)
    if not allowed:
        raise PermissionDenied(reason)
    root = permissions.import_root_path(scope)
    report = ImportReport(
        filename=filename, sha256=hashlib.sha256(data).hexdigest(), dry_run=dry_run, strict=strict
    )
    table = parse_table(data)
    report.total_rows = table.total_rows
    report.labels = table.labels
    errors = list(table.errors)
    code_col = _col(table, "code")

    existing = _fetch_by_codes(r.code for r in table.rows)
    parent_ids = {o.parent_id for o in existing.values() if o.parent_id}
    parents_by_id = {o.pk: o for o in Org.objects.filter(pk__in=parent_ids)} if parent_ids else {}
    for o in existing.values():
        if o.parent_id:
            o.parent = parents_by_id[o.parent_id]

    plans: dict[str, _Plan] = {}
    for r in table.rows:
        org = existing.get(r.code)
        if org is not None:
            if org.kind in ADMIN_KINDS:
                errors.append(
                    RowError(
                        r.row, code_col, _("省、市、县和功能区由行政区划数据维护，不能通过导入修改")
                    )
                )
                continue
            if root is not None and (not path_within(org.path, root) or org.path == root):
                errors.append(
                    RowError(
                        r.row,
                        code_col,
                        _("代码 %(code)s 已被您管辖范围以外的机构使用") % {"code": r.code},
                    )
                )
                continue
        values = dict(r.values)
        kind = values.pop("kind", None) or (org.kind if org else OrgKind.SCHOOL)
        if org is None and not values.get("name"):
            errors.append(RowError(r.row, _col(table, "name"), _("新机构须填写学校名称")))
            continue
        if org is not None and kind != org.kind:
            values["kind"] = kind
        plans[r.code] = _Plan(r.row, r.code, org, values, dict(r.extra), kind=kind)

    _resolve_parents(table, plans, root, errors)
    depth = _drop_orphans(table, plans, errors)
    report.errors = sorted(errors, key=lambda e: (e.row, e.column))

    creates: list[_Plan] = []
    updates: list[tuple[_Plan, dict, dict]] = []
    for plan in sorted(plans.values(), key=lambda p: p.row):
        if plan.existing is None:
            creates.append(plan)
            name = plan.values.get("name", "")
            report.changes.append(RowChange(plan.row, plan.code, name, "added", {}, plan.values))
            continue
        before, after = _changes_for(plan)
        if not after:
            report.unchanged += 1
            continue
        updates.append((plan, before, after))
        report.changes.append(
            RowChange(plan.row, plan.code, plan.existing.name, "updated", before, after)
        )
        if "parent" in after:
            report.moved += 1
    report.added = len(creates)
    report.updated = len(updates)

    if dry_run or (strict and report.errors):
        return report
    try:
        with transaction.atomic():
            _write_import(creates, updates, depth)
            event = audit_record(
                actor=actor,
                action="orgs.import",
                object_type="orgs.import",
                object_id=report.sha256,
                after={
                    "filename": filename,
                    "sha256": report.sha256,
                    "rows": report.total_rows,
                    "added": report.added,
                    "updated": report.updated,
                    "moved": report.moved,
                    "unchanged": report.unchanged,
                    "refused": report.refused,
                    "within": root,
                    "added_codes": [p.code for p in creates][:AUDIT_CODE_LIMIT],
                    "updated_codes": [p.code for p, _, _ in updates][:AUDIT_CODE_LIMIT],
                },
            )
    except IntegrityError as exc:
        # Another import added one of these codes meanwhile; nothing of ours was kept.
        raise ImportFileError(
            _("导入时数据已被他人修改，未写入任何数据，请重新导入（%(error)s）") % {"error": exc}
        ) from exc
    report.written = True
    report.audit_event_id = event.pk
    return report


def _write_import(creates: list[_Plan], updates: list[tuple[_Plan, dict, dict]], depth) -> None:
    now = timezone.now()
    created: dict[str, Org] = {}
    # Parents before children: a level's rows get their ids before the next level is built.
    by_level: dict[int, list[_Plan]] = defaultdict(list)
    for plan in creates:
        by_level[depth.get(plan.code, 0)].append(plan)
    existing_targets = {p.parent_code for p in creates if p.parent_code} | {
        p.parent_code for p, _, _ in updates if p.parent_code
    }
    in_file = _fetch_by_codes(existing_targets - {p.code for p in creates})
    for level in sorted(by_level):
        objs = []
        for plan in by_level[level]:
            parent = plan.parent_org or created.get(plan.parent_code) or in_file[plan.parent_code]
            org = Org(code=plan.code, kind=plan.kind, parent=parent, extra=dict(plan.extra))
            for f, v in plan.values.items():
                setattr(org, f, v)
            if not org.division_code:
                org.division_code = parent.division_code
            org.refresh_derived()
            objs.append(org)
        for org in Org.objects.bulk_create(objs, batch_size=500):
            created[org.code] = org

    plain: list[Org] = []
    fields: set[str] = set()
    moves: list[tuple[Org, Org]] = []
    for plan, _before, after in updates:
        org = plan.existing
        for f, v in after.items():
            if f == "parent":
                continue
            setattr(org, f, v)
            fields.add(f)
        if "kind" in after:
            fields.add("tier")
            org.tier = tier_for(org.kind, org.parent.tier if org.parent_id else None)
        org.updated_at = now
        plain.append(org)
        if "parent" in after:
            target = plan.parent_org or created.get(plan.parent_code) or in_file[plan.parent_code]
            moves.append((org, target))
    if plain and fields:
        Org.objects.bulk_update(plain, sorted(fields | {"updated_at"}), batch_size=200)
    elif plain:
        Org.objects.bulk_update(plain, ["updated_at"], batch_size=500)
    for org, target in moves:
        # Re-read both: an earlier move in this import may have rewritten their paths.
        _move_subtree(Org.objects.get(pk=org.pk), Org.objects.get(pk=target.pk))


# --- move ---------------------------------------------------------------------------------------


def _move_subtree(org: Org, new_parent: Org) -> int:
    """Rewrite the paths of ``org``'s whole subtree under ``new_parent``; returns its size."""
    old_path = org.path
    new_path = f"{new_parent.path}{org.code}/"
    delta = new_parent.depth + 1 - org.depth
    # One statement for the subtree: the new path is the new prefix plus the old path's tail.
    # Paths stay unique throughout: codes are unique, so no new path equals any old one.
    size = Org.objects.filter(subtree_q(old_path)).update(
        path=Concat(Value(new_path), Substr("path", len(old_path) + 1)),
        depth=F("depth") + delta,
        updated_at=timezone.now(),
    )
    # Copies of the path held above (applications' applicant_path) follow in the same transaction.
    subtree_moved.send(sender=Org, old_path=old_path, new_path=new_path)
    org.parent = new_parent
    org.path = new_path
    org.depth = new_parent.depth + 1
    org.tier = tier_for(org.kind, new_parent.tier)
    Org.objects.filter(pk=org.pk).update(parent=new_parent, tier=org.tier)
    # Only counties and zones take their tier from their parent (a county under the province
    # acts at city level); re-derive theirs inside the moved subtree, parents first.
    tiers = {org.pk: org.tier}
    for o in (
        Org.objects.filter(subtree_q(new_path), kind__in=[OrgKind.COUNTY, OrgKind.ZONE])
        .exclude(pk=org.pk)
        .select_related("parent")
        .order_by("depth")
    ):
        parent_tier = tiers.get(o.parent_id, o.parent.tier)
        tier = tier_for(o.kind, parent_tier)
        tiers[o.pk] = tier
        if tier != o.tier:
            Org.objects.filter(pk=o.pk).update(tier=tier)
    return size


@transaction.atomic
def org_move(*, org: Org, new_parent: Org, actor: Actor, scope: Scope | None = None) -> int:
    """Change ``org``'s parent; every path in its subtree follows. Returns the subtree's size."""
    org = Org.objects.select_for_update(of=("self",)).select_related("parent").get(pk=org.pk)
    new_parent = Org.objects.get(pk=new_parent.pk)
    if org.parent_id == new_parent.pk:
        return 0
    allowed, reason = permissions.can_move(scope, org, new_parent)
    if not allowed:
        raise OrgMoveError(reason)
    before = {
        "parent": getattr(org.parent, "code", None),
        "path": org.path,
        "tier": org.tier,
    }
    size = _move_subtree(org, new_parent)
    audit_record(
        actor=actor,
        action="org.move",
        obj=org,
        before=before,
        after={"parent": new_parent.code, "path": org.path, "tier": org.tier, "subtree": size},
    )
    return size


# --- edit ---------------------------------------------------------------------------------------


@transaction.atomic
def org_update(
    *,
    org: Org,
    changes: dict,
    actor: Actor,
    scope: Scope | None = None,
    loaded_at=None,
) -> Org:
    """Change attributes of one org, within what ``scope`` may edit; audited before/after.

    ``loaded_at`` is the ``updated_at`` the editor saw: a change made meanwhile by someone
    else is not silently overwritten.
    """
    locked = Org.objects.select_for_update().get(pk=org.pk)
    allowed = set(permissions.editable_fields(scope, locked))
    if not allowed:
        raise PermissionDenied(permissions.can_edit(scope, locked)[1])
    refused = set(changes) - allowed
    if refused:
        raise PermissionDenied(_("无权修改：%(names)s") % {"names": ", ".join(sorted(refused))})
    if loaded_at is not None and locked.updated_at != loaded_at:
        raise OrgChangedError(_("该机构信息已被他人修改，请刷新页面后重新编辑。"))
    before_all = {f: getattr(locked, f) for f in changes}
    for f, v in changes.items():
        setattr(locked, f, v)
    locked.full_clean(validate_unique=False)
    before, after = diff(before_all, {f: getattr(locked, f) for f in changes})
    if not after:
        return locked
    locked.save(update_fields=[*sorted(after), "updated_at"])
    audit_record(actor=actor, action="org.update", obj=locked, before=before, after=after)
    return locked
