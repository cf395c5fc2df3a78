"""Reading a programme file: TOML → typed model → checks against the database.

Every problem becomes a :class:`FileError` naming the file, the line and the field, in
Chinese, so a bureau's author can fix the file without reading code.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from edupilot.orgs.models import Org

from . import cascade, notice_files, rules, schema
from . import folds as folding
from . import sets as setrules
from .quotas import QuotaResolveError, compute_category, resolve_org
from .schema_base import LocatedValueError
from .toml_lines import LineIndex

UNION_TAGS = {
    "text", "longtext", "number", "choice", "date", "phone", "email", "bool", "topic",
    "attachment", "members", "group", "table", "percent", "apportion", "each",
    "plan", "reports", "inspection", "acceptance", "appraisal", "awards", "cases",
    "tier_review", "org_review", "joint_review", "expert_scoring", "approval", "announcement",
}  # fmt: skip

PYDANTIC_MESSAGES = {
    "missing": "缺少必填项",
    "extra_forbidden": "不认识的字段（请检查拼写）",
    "string_too_short": "不能为空",
    "too_short": "至少需要 {min_length} 项",
    "too_long": "最多 {max_length} 项",
    "string_too_long": "最长 {max_length} 个字符",
    "string_pattern_mismatch": "格式不对，应匹配 {pattern}",
    "greater_than_equal": "不能小于 {ge}",
    "greater_than": "必须大于 {gt}",
    "less_than_equal": "不能大于 {le}",
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "int_from_float": "应为整数",
    "decimal_parsing": "应为数字",
    "decimal_type": "应为数字",
    "string_type": "应为文字（加引号）",
    "bool_type": "应为 true 或 false",
    "bool_parsing": "应为 true 或 false",
    "list_type": "应为列表 [ … ]",
    "dict_type": "应为表 { … }",
    "model_type": "应为表 { … }",
    "date_type": "应为日期，如 2019-09-27",
    "date_parsing": "应为日期，如 2019-09-27",
    "datetime_parsing": "应为日期时间，如 2019-09-27T17:00:00",
    "literal_error": "取值必须是 {expected} 之一",
    "union_tag_invalid": "类型 {tag} 不存在，可用：{expected_tags}",
    "union_tag_not_found": "缺少 {discriminator}",
}


@dataclass(frozen=True)
class FileError:
    file: str
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return (
            f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"
        )


class FileInvalid(Exception):
    """A file that cannot be read: every problem found, each naming file, line and field."""

    def __init__(self, errors: list[FileError]):
        super().__init__("\n".join(str(e) for e in errors))
        self.errors = errors


class ProgrammeFileInvalid(FileInvalid):
    pass


@dataclass
class ParsedFile:
    name: str
    text: str
    sha256: str
    spec: schema.Programme
    index: LineIndex
    # ``[notice]``: the notice's text and attachments, read beside the file (parse_file).
    notice_files: list[notice_files.NoticeFile] = field(default_factory=list)
    # A round's: what it inherits from its parent, and where that is (cascade.Origin).
    origin: cascade.Origin | None = None

    def error(self, loc: tuple, message: str) -> FileError:
        return located(self.name, self.index, self.origin, loc, message)


def located(
    name: str, index: LineIndex, origin: cascade.Origin | None, loc: tuple, message: str
) -> FileError:
    """The error at ``loc``: the file's line and field; in content a round inherits from its
    parent (``origin``), the file, line and field that hold it (the grandparent's when the
    parent inherited it in turn), saying what inherits it."""
    source = origin.source_of(loc) if origin is not None else None
    if source is None:
        return FileError(name, index.line_for(loc), field_label(loc), message)
    where, inherited = source
    note = origin.note(loc, name, index.line_for(loc[:2]) if loc[0] == "categories" else None)
    return FileError(
        where.name, where.index.line_for(inherited), field_label(inherited), message + note
    )


def _clean_loc(loc: tuple) -> tuple:
    out: list = []
    for i, part in enumerate(loc):
        if isinstance(part, str) and part in UNION_TAGS and i > 0 and isinstance(loc[i - 1], int):
            continue
        if isinstance(part, str) and part.startswith(("function-", "tagged-union")):
            continue
        out.append(part)
    return tuple(out)


def field_label(loc: tuple) -> str:
    label = ""
    for part in loc:
        label += f"[{part + 1}]" if isinstance(part, int) else (f".{part}" if label else str(part))
    return label


def pydantic_message(err: dict) -> str:
    """One pydantic error in Chinese (a validator's own message as it was written)."""
    if err["type"] == "value_error":
        return str(err["msg"]).removeprefix("Value error, ")
    template = PYDANTIC_MESSAGES.get(err["type"])
    if template is None:
        return err["msg"]
    try:
        return template.format(**(err.get("ctx") or {}))
    except (KeyError, IndexError):
        return err["msg"]


TOO_DEEP = "数组或表嵌套层数过深，无法读取（项目文件不需要这么多层）"


def load_toml(text: str, name: str, invalid: type[FileInvalid]) -> dict:
    """The TOML table of ``text``; a syntax error raises ``invalid`` naming its line."""
    try:
        return tomllib.loads(text)
    except RecursionError as exc:
        raise invalid([FileError(name, None, "", TOO_DEEP)]) from exc
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+)", str(exc))
        raise invalid(
            [FileError(name, int(m.group(1)) if m else None, "", f"TOML 语法错误：{exc}")]
        ) from exc


def parse_text(text: str, name: str) -> ParsedFile:
    data = load_toml(text, name, ProgrammeFileInvalid)
    index = LineIndex(text)
    origin = None
    if data.get("parent") and isinstance(data["parent"], str):
        # A round under a loaded parent programme inherits its forms and categories (cascade.py).
        try:
            parent = cascade.parent_source(data["parent"])
            origin = cascade.origin(data, parent)
            data = cascade.inherit(data, parent["spec"])
        except LocatedValueError as exc:
            loc = exc.loc
            raise ProgrammeFileInvalid(
                [FileError(name, index.line_for(loc), field_label(loc), str(exc))]
            ) from exc
    try:
        spec = schema.Programme.model_validate(data)
    except RecursionError as exc:
        raise ProgrammeFileInvalid([FileError(name, None, "", TOO_DEEP)]) from exc
    except ValidationError as exc:
        errors = []
        for err in exc.errors():
            loc = _clean_loc(err["loc"])
            # Cross-field checks say where below the model the problem is.
            inner = getattr((err.get("ctx") or {}).get("error"), "loc", None)
            if inner:
                loc = (*loc, *inner)
            errors.append(located(name, index, origin, loc, pydantic_message(err)))
        raise ProgrammeFileInvalid(errors) from exc
    digest = hashlib.sha256(text.encode()).hexdigest()
    return ParsedFile(name, text, digest, spec, index, origin=origin)


def parse_file(path: str | Path) -> ParsedFile:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ProgrammeFileInvalid([FileError(str(path), None, "", "文件不存在")]) from exc
    except IsADirectoryError as exc:
        raise ProgrammeFileInvalid(
            [FileError(str(path), None, "", "这是一个目录，请给出其中的 .toml 文件")]
        ) from exc
    except UnicodeDecodeError as exc:
        raise ProgrammeFileInvalid([FileError(str(path), None, "", "文件不是 UTF-8 编码")]) from exc
    except OSError as exc:
        raise ProgrammeFileInvalid(
            [FileError(str(path), None, "", f"文件无法读取：{exc.strerror or exc}")]
        ) from exc
    return with_notice_files(parse_text(text, str(path)), path.parent)


def with_notice_files(parsed: ParsedFile, base: Path) -> ParsedFile:
    """Read the ``[notice]`` files beside the programme file. Their content is part of the
    file's hash, so changing an attachment is a change of the programme."""
    if parsed.spec.notice is None:
        return parsed
    files, problems = notice_files.read_notice(parsed.spec.notice, base)
    if problems:
        raise ProgrammeFileInvalid(
            [
                FileError(parsed.name, parsed.index.line_for(loc), field_label(loc), message)
                for loc, message in problems
            ]
        )
    digest = hashlib.sha256(parsed.text.encode())
    for f in files:
        digest.update(f"\n{f.role}:{f.position}:{f.filename}:{f.sha256}".encode())
    parsed.notice_files = files
    parsed.sha256 = digest.hexdigest()
    return parsed


def _sample_form_data(form: schema.Form) -> dict:
    """Form data with a plausible value for every field, so submission rules can be dry-run."""
    sample = {
        "text": "示例", "longtext": "示例", "number": 1, "choice": "x", "date": "2020-01-01",
        "phone": "13800000000", "email": "a@example.com", "bool": True, "topic": "x",
        "attachment": [], "members": [], "group": [],
    }  # fmt: skip
    data = {}
    for f in form.all_fields():
        if f.type == "choice":
            data[f.key] = [f.options[0].value] if f.multiple else f.options[0].value
        elif f.type == "group":
            data[f.key] = [{sub.key: sample[sub.type] for sub in f.fields}]
        else:
            data[f.key] = sample[f.type]
    return data


def check_rules(parsed: ParsedFile) -> list[FileError]:
    """A dry run of every rule on plausible form data (no database needed)."""
    spec = parsed.spec
    errors: list[FileError] = []
    for ci, category in enumerate(spec.categories):
        form = spec.forms[category.form]
        sample = _sample_form_data(form)
        for ri, rule in enumerate(category.rules):
            try:
                rules.check_rule(rule.expr, rule.phase, sample)
            except rules.RuleCompileError as exc:
                errors.append(parsed.error(("categories", ci, "rules", ri, "expr"), str(exc)))
    return errors


def check_against_database(parsed: ParsedFile) -> list[FileError]:
    """Checks that need the org tree: issuer, quota tables; and a dry run of every rule."""
    return check_rules(parsed) + check_orgs(parsed)


def check_orgs(parsed: ParsedFile) -> list[FileError]:
    """Checks that need the org tree: the issuer, review orgs and quota tables."""
    spec = parsed.spec
    errors: list[FileError] = []

    def err(loc: tuple, message: str) -> None:
        errors.append(parsed.error(loc, message))

    try:
        issuer = resolve_org(spec.issuer, None, ("issuer",))
    except QuotaResolveError as exc:
        err(exc.loc, str(exc))
        return errors
    for i, co in enumerate(spec.co_issuers):
        if co.org:
            try:
                resolve_org(co.org, None, ("co_issuers", i, "org"))
            except QuotaResolveError as exc:
                err(exc.loc, str(exc))
    cascade.check(spec, issuer, err)
    if not _check_folds(spec, issuer, err):
        return errors
    for ci, category in enumerate(spec.categories):
        for si, stage in enumerate(category.pipeline):
            if stage.kind == "org_review":
                loc = ("categories", ci, *category.flow_loc(si, "org"))
                try:
                    resolve_org(stage.org, issuer, loc)
                except QuotaResolveError as exc:
                    err(exc.loc, f"阶段 {stage.key}：{exc}")
            for ref in getattr(stage, "orgs", ()):
                loc = ("categories", ci, *category.flow_loc(si, "orgs"))
                try:
                    resolve_org(ref, issuer, loc)
                except QuotaResolveError as exc:
                    err(exc.loc, f"阶段 {stage.key}：{exc}")
        deciding = _deciding_tier(category, issuer)
        for ri, r in enumerate(category.set_rules):
            if r.level == deciding:
                err(
                    ("categories", ci, "set_rules", ri, "level"),
                    f"集合规则 {r.id} 的层级 {r.level} 是发文单位自己审定的层级，该层级不再向上推荐，"
                    "规则无从检查；请写推荐单位的层级",
                )
            if r.where is not None:
                try:
                    setrules.Matcher.build(
                        r.where, issuer, ("categories", ci, "set_rules", ri, "where")
                    )
                except QuotaResolveError as exc:
                    err(exc.loc, f"集合规则 {r.id}：{exc}")
        _check_earlier_rounds(spec, category, ci, err)
        try:
            compute_category(category, issuer, ("categories", ci))
        except QuotaResolveError as exc:
            err(exc.loc, str(exc))
        except ValueError as exc:
            err(("categories", ci, "quotas"), str(exc))
    return errors


def _deciding_tier(category: schema.Category, issuer: Org) -> str | None:
    """The tier whose review is the issuer's own decision (the chain's last stage is a tier
    review at the issuer's tier): nobody recommends at it, so no set rule applies there."""
    levels = category.levels
    last = levels[-1] if levels else None
    if last is not None and last.kind == "tier_review" and last.tier == issuer.tier:
        return last.tier
    return None


def _check_earlier_rounds(spec: schema.Programme, category: schema.Category, ci: int, err) -> None:
    """A quota's ``earlier_rounds`` are other programmes, loaded, with a category of this code."""
    from .models import Programme

    for qi, q in enumerate(category.quotas):
        for i, code in enumerate(q.earlier_rounds):
            loc = ("categories", ci, "quotas", qi, "earlier_rounds", i)
            earlier = Programme.objects.filter(code=code).first()
            if code == spec.code:
                err(loc, "earlier_rounds 不能包含本项目自己")
            elif earlier is None:
                err(loc, f"往轮项目 {code} 尚未载入（请先载入它的项目文件）")
            elif earlier.parsed.category(category.code) is None:
                err(loc, f"往轮项目 {code} 没有代码为 {category.code} 的类别")


def _check_folds(spec: schema.Programme, issuer: Org, err) -> bool:
    """``[[folds]]``: both orgs exist under the issuer, ``into`` is a bureau not below ``org``,
    and no chain of folds loops. False when a fold is wrong (the quotas are not checked then)."""
    resolved = []
    for fi, f in enumerate(spec.folds):
        try:
            org = resolve_org(f.org, issuer, ("folds", fi, "org"))
            into = resolve_org(f.into, issuer, ("folds", fi, "into"))
        except QuotaResolveError as exc:
            err(exc.loc, str(exc))
            continue
        fold = folding.ResolvedFold(org, into, tuple(f.categories))
        problem = folding.check(fold, issuer)
        if problem:
            err(("folds", fi, "into"), problem)
            continue
        resolved.append((fi, fold))
    if len(resolved) < len(spec.folds):
        return False
    for category in spec.categories:
        applicable = [
            (fi, fd) for fi, fd in resolved if not fd.categories or category.code in fd.categories
        ]
        for fi, fold in applicable:
            try:
                folding.fold_lineage(folding.plain_lineage(fold.org), [f for _, f in applicable])
            except folding.FoldCycle as exc:
                err(("folds", fi, "into"), str(exc))
                return False
    return True


def validate(
    path: str | Path, *, with_database: bool = True
) -> tuple[ParsedFile | None, list[FileError]]:
    """The file's problems; ``with_database=False`` checks the file alone (no org tree yet)."""
    try:
        parsed = parse_file(path)
    except ProgrammeFileInvalid as exc:
        return None, exc.errors
    return parsed, check_rules(parsed) + (check_orgs(parsed) if with_database else [])


def issuer_for(spec: schema.Programme) -> Org:
    return resolve_org(spec.issuer, None, ("issuer",))
