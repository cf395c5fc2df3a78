"""Reading and checking form data against a programme's form.

HTML names: a scalar field ``key`` posts as ``f-key`` (a multiple choice as several
``f-key``); a repeating group posts ``f-key-rows`` (row count) and ``f-key-<i>-<sub>``.
Members and attachments are handled by their own services, not here.

Drafts keep what the user typed even when it does not validate (nothing is lost); the full
check, with required fields, runs at submission.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

from edupilot.programmes import schema

HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ebef]")
MOBILE = re.compile(r"^1[3-9]\d{9}$")
LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}(-\d{1,6})?$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")

DATA_TYPES = (
    "text",
    "longtext",
    "number",
    "choice",
    "date",
    "phone",
    "email",
    "bool",
    "topic",
    "group",
)


def count_chars(text: str, mode: str = "han") -> int:
    """Length as the notices count it: Chinese characters (汉字), or every non-space character."""
    if not text:
        return 0
    if mode == "han":
        return len(HAN.findall(text))
    return len(re.sub(r"\s", "", text))


@dataclass
class CleanResult:
    data: dict = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)

    def add(self, key: str, message: str) -> None:
        self.errors.setdefault(key, []).append(message)

    @property
    def ok(self) -> bool:
        return not self.errors


def _number(f: schema.NumberField, raw: str, res: CleanResult, key: str):
    raw = raw.strip().replace(",", "").replace("，", "")
    try:
        value = Decimal(raw)
    except InvalidOperation:
        res.add(key, _("“%(field)s”应为数字") % {"field": f.label})
        return raw
    if not value.is_finite():
        res.add(key, _("“%(field)s”应为数字") % {"field": f.label})
        return raw
    if f.decimals == 0 and value != value.to_integral_value():
        res.add(key, _("“%(field)s”应为整数") % {"field": f.label})
        return raw
    if f.min is not None and value < f.min:
        res.add(key, _("“%(field)s”不能小于 %(min)s") % {"field": f.label, "min": f.min})
    if f.max is not None and value > f.max:
        res.add(key, _("“%(field)s”不能大于 %(max)s") % {"field": f.label, "max": f.max})
    if f.decimals == 0:
        return int(value)
    return float(round(value, f.decimals))


def _too_long(f, raw: str) -> str:
    return _("“%(field)s”过长（最多 %(max)s 个字符，现有 %(n)s 个）") % {
        "field": f.label,
        "max": f.limit,
        "n": len(raw),
    }


def clean_value(f, raw, res: CleanResult, key: str, *, topics: list[schema.Topic] | None = None):
    """One field's value from its raw form input; records errors in ``res``."""
    if f.type == "choice" and f.multiple:
        values = [v for v in (raw or []) if v]
        allowed = {o.value for o in f.options}
        bad = [v for v in values if v not in allowed]
        if bad:
            res.add(
                key,
                _("“%(field)s”的选项无效：%(values)s")
                % {"field": f.label, "values": _("、").join(bad)},
            )
        return values
    if f.type == "bool":
        return raw in ("on", "true", "1", "yes", True)
    raw = (raw or "").strip() if isinstance(raw, str) else raw
    if raw in ("", None):
        return None
    if f.type not in ("text", "longtext") and isinstance(raw, str) and len(raw) > f.limit:
        # Kept as typed (a draft loses nothing) but not read as a number, date or phone.
        res.add(key, _too_long(f, raw))
        return raw
    if f.type == "text":
        if len(raw) > f.max_length:
            res.add(
                key,
                _("“%(field)s”最多 %(max)s 个字符（现有 %(n)s 个）")
                % {"field": f.label, "max": f.max_length, "n": len(raw)},
            )
        if f.pattern and not re.fullmatch(f.pattern, raw):
            res.add(key, f.pattern_message or _("“%(field)s”格式不正确") % {"field": f.label})
        return raw
    if f.type == "longtext":
        n = count_chars(raw, f.count)
        if f.max_chars is not None and n > f.max_chars:
            words = {"field": f.label, "max": f.max_chars, "n": n}
            res.add(
                key,
                _("“%(field)s”最多 %(max)s 个汉字（现有 %(n)s 个）") % words
                if f.count == "han"
                else _("“%(field)s”最多 %(max)s 个字（现有 %(n)s 个）") % words,
            )
        if len(raw) > f.limit:
            res.add(key, _too_long(f, raw))
        return raw
    if f.type == "number":
        return _number(f, raw, res, key)
    if f.type == "choice":
        if raw not in {o.value for o in f.options}:
            res.add(key, _("“%(field)s”的选项无效") % {"field": f.label})
        return raw
    if f.type == "topic":
        if topics is not None and raw not in {t.code for t in topics}:
            res.add(key, _("“%(field)s”的选项无效") % {"field": f.label})
        return raw
    if f.type == "date":
        try:
            value = dt.date.fromisoformat(raw)
        except ValueError:
            res.add(key, _("“%(field)s”应为日期，格式如 2024-09-01") % {"field": f.label})
            return raw
        if f.min and value < f.min:
            res.add(key, _("“%(field)s”不能早于 %(min)s") % {"field": f.label, "min": f.min})
        if f.max and value > f.max:
            res.add(key, _("“%(field)s”不能晚于 %(max)s") % {"field": f.label, "max": f.max})
        return raw
    if f.type == "phone":
        compact = re.sub(r"[\s()（）]", "", raw)
        ok = {
            "mobile": MOBILE.match(compact),
            "landline": LANDLINE.match(compact),
            "any": MOBILE.match(compact) or LANDLINE.match(compact),
        }[f.kind]
        if not ok:
            want = {
                "mobile": _("“%(field)s”应为11 位手机号码"),
                "landline": _("“%(field)s”应为带区号的固定电话，如 0371-66329808"),
                "any": _("“%(field)s”应为手机号码或带区号的固定电话"),
            }
            res.add(key, want[f.kind] % {"field": f.label})
            return raw
        return compact
    if f.type == "email":
        if not EMAIL.match(raw) or len(raw) > 254:
            res.add(key, _("“%(field)s”不是有效的电子邮箱地址") % {"field": f.label})
        return raw
    return raw


def _raw(post, name: str, multiple: bool = False):
    if multiple:
        return post.getlist(name) if hasattr(post, "getlist") else list(post.get(name) or [])
    value = post.get(name)
    if isinstance(value, list):
        value = value[-1] if value else None
    return value


def _present(post, f) -> bool:
    """Whether the post carries this field at all (a partial save leaves the others alone).

    Unchecked checkboxes send nothing, so forms mark them with ``f-<key>__present``.
    """
    name = f"f-{f.key}"
    if f.type == "group":
        return f"{name}-rows" in post
    return name in post or f"{name}__present" in post


def clean_post(form: schema.Form, post, *, topics: list[schema.Topic] | None = None) -> CleanResult:
    """Read the data fields of ``form`` that the post carries (drafts: no required check)."""
    res = CleanResult()
    for f in form.all_fields():
        if f.type not in DATA_TYPES or not _present(post, f):
            continue
        name = f"f-{f.key}"
        if f.type == "group":
            try:
                rows = min(int(_raw(post, f"{name}-rows") or 0), f.max_items)
            except ValueError:
                rows = 0
            items = []
            for i in range(rows):
                item = {}
                for sub in f.fields:
                    multiple = sub.type == "choice" and sub.multiple
                    item[sub.key] = clean_value(
                        sub,
                        _raw(post, f"{name}-{i}-{sub.key}", multiple),
                        res,
                        f"{f.key}.{i}.{sub.key}",
                    )
                if any(v not in (None, "", [], False) for v in item.values()):
                    items.append(item)
            res.data[f.key] = items
            continue
        multiple = f.type == "choice" and f.multiple
        res.data[f.key] = clean_value(f, _raw(post, name, multiple), res, f.key, topics=topics)
    return res


def _empty(value) -> bool:
    return value in (None, "", [], {})


def check_complete(
    form: schema.Form,
    data: dict,
    *,
    topics: list[schema.Topic] | None = None,
    attachment_counts: dict[str, int] | None = None,
    member_count: int = 0,
) -> CleanResult:
    """The full check at submission: every value valid, required fields present, counts met."""
    res = CleanResult(data=dict(data))
    attachment_counts = attachment_counts or {}
    for f in form.all_fields():
        value = data.get(f.key)
        if f.type == "attachment":
            n = attachment_counts.get(f.key, 0)
            need = max(f.min_count, 1 if f.required else 0)
            if n < need and (need == 1 or n == 0):
                res.add(
                    f.key,
                    _("请上传“%(field)s”（至少 %(need)s 个文件）")
                    % {"field": f.label, "need": need}
                    if need > 1
                    else _("请上传“%(field)s”") % {"field": f.label},
                )
            elif n < need:
                res.add(
                    f.key,
                    _(
                        "“%(field)s”至少需要 %(need)s 个文件，现有 %(n)s 个，还差 %(short)s 个"
                        "（已上传的文件都已保存）"
                    )
                    % {"field": f.label, "need": need, "n": n, "short": need - n},
                )
            if n > f.max_count:
                res.add(
                    f.key,
                    _("“%(field)s”最多 %(max)s 个文件，现有 %(n)s 个，请删除 %(extra)s 个")
                    % {"field": f.label, "max": f.max_count, "n": n, "extra": n - f.max_count},
                )
            continue
        if f.type == "members":
            need = max(f.min_items, 1 if f.required else 0)
            if member_count < need:
                res.add(f.key, _("“%(field)s”至少选择 %(n)s 所") % {"field": f.label, "n": need})
            if f.max_items is not None and member_count > f.max_items:
                res.add(
                    f.key, _("“%(field)s”最多选择 %(n)s 所") % {"field": f.label, "n": f.max_items}
                )
            continue
        if f.type == "group":
            items = value or []
            if len(items) < max(f.min_items, 1 if f.required else 0):
                res.add(
                    f.key,
                    _("“%(field)s”至少填写 %(n)s 行")
                    % {"field": f.label, "n": max(f.min_items, 1)},
                )
            for i, item in enumerate(items):
                for sub in f.fields:
                    sub_value = item.get(sub.key)
                    key = f"{f.key}.{i}.{sub.key}"
                    if sub.required and _empty(sub_value):
                        res.add(
                            key,
                            _("第 %(row)s 行“%(field)s”为必填项")
                            % {"row": i + 1, "field": sub.label},
                        )
                    elif not _empty(sub_value):
                        _recheck(sub, sub_value, res, key, topics)
            continue
        if f.required and (_empty(value) or (f.type == "bool" and value is not True)):
            res.add(f.key, _("“%(field)s”为必填项") % {"field": f.label})
            continue
        if _empty(value):
            continue
        _recheck(f, value, res, f.key, topics)
        if f.type == "longtext" and f.min_chars:
            n = count_chars(value, f.count)
            if n < f.min_chars:
                words = {"field": f.label, "min": f.min_chars, "n": n}
                res.add(
                    f.key,
                    _("“%(field)s”至少 %(min)s 个汉字（现有 %(n)s 个）") % words
                    if f.count == "han"
                    else _("“%(field)s”至少 %(min)s 个字（现有 %(n)s 个）") % words,
                )
    return res


def _recheck(f, value, res: CleanResult, key: str, topics) -> None:
    """Validate a stored value again (drafts may hold what did not validate when typed)."""
    if f.type == "choice" and f.multiple:
        clean_value(f, value if isinstance(value, list) else [value], res, key)
        return
    if f.type == "bool":
        return
    raw = value if isinstance(value, str) else str(value)
    clean_value(f, raw, res, key, topics=topics)


def summary_fields(form: schema.Form) -> list:
    return [f for f in form.all_fields() if f.summary]


TITLE_KEYS = ("project_name", "title")


def title_field(form: schema.Form, data: dict):
    """The field whose value names the application (``Application.title``), or None.

    A project name field when the form has one and it is filled, else the first filled
    summary field (often the unit's own name: say so by its label, not as 项目名称)."""
    for key in TITLE_KEYS:
        f = form.field(key)
        if f is not None and data.get(key):
            return f
    for f in summary_fields(form):
        if data.get(f.key):
            return f
    return None
