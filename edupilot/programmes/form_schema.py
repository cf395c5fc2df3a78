"""The application form of a programme file: sections, fields of every type, opinion boxes.

Part of the format (``schema.py`` re-exports every name here).
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Annotated, ClassVar, Literal

from django.conf import settings
from pydantic import Field, field_validator, model_validator

from .schema_base import Key, LocatedValueError, OrgKindName, StageName, Strict

# --- form fields ---------------------------------------------------------------------------


# What a field may be prefilled from: attributes of the applicant org.
PREFILL_SOURCES = (
    "org.name", "org.code", "org.address", "org.postcode", "org.website", "org.locality",
    "org.ownership", "org.bandwidth_mbps", "org.teacher_count", "org.student_count",
    "org.computer_count", "org.stages", "org.county", "org.area",
)  # fmt: skip


class FieldBase(Strict):
    # The most characters one value of this type may have as typed (a longer one is refused
    # with a message; see applications.formspec). Text types say it in the file.
    input_limit: ClassVar[int] = 200

    key: Key
    label: str = Field(min_length=1)
    required: bool = False
    help: str = ""
    # Fill the initial draft from the applicant org, e.g. "org.name", "org.address".
    prefill: str | None = None
    # The org tree knows this: when the applicant org has a value for ``prefill``, the form
    # shows it read-only and keeps it (a typed value is ignored); with no value, it is typed.
    locked: bool = False
    # Show this field on the summary table (汇总表) and lists.
    summary: bool = False

    @property
    def limit(self) -> int:
        """The most characters one typed value may have."""
        return self.input_limit

    @field_validator("prefill")
    @classmethod
    def _known_prefill(cls, v):
        if v is not None and v not in PREFILL_SOURCES:
            raise ValueError(f"不认识的预填来源 {v}，可用：{', '.join(PREFILL_SOURCES)}")
        return v

    @model_validator(mode="after")
    def _locked_needs_prefill(self):
        if self.locked and self.prefill is None:
            raise ValueError("locked = true 需要同时给出 prefill（锁定为机构信息中的哪一项）")
        return self


class TextField(FieldBase):
    type: Literal["text"]
    max_length: int = Field(default=200, ge=1, le=2000)
    min_length: int = Field(default=0, ge=0)
    pattern: str | None = None
    pattern_message: str | None = None

    @property
    def limit(self) -> int:
        return self.max_length

    @field_validator("pattern")
    @classmethod
    def _pattern_compiles(cls, v):
        if v is not None:
            try:
                re.compile(v)
            except re.error as exc:
                raise ValueError(f"正则表达式无效：{exc}") from exc
        return v


class LongTextField(FieldBase):
    """Long text with a target length, counted in Chinese characters (汉字) by default."""

    type: Literal["longtext"]
    target_chars: int | None = Field(default=None, ge=1, description="“字数控制在…左右”")
    min_chars: int | None = Field(default=None, ge=0)
    max_chars: int | None = Field(default=None, ge=1)
    count: Literal["han", "all"] = "han"
    outline: list[str] = Field(default_factory=list, description="要点提纲，显示给填写人")
    # Characters as typed, spaces and punctuation included: a bound on what is stored.
    max_length: int = Field(default=100_000, ge=1, le=200_000)

    @property
    def limit(self) -> int:
        return self.max_length

    @model_validator(mode="after")
    def _bounds(self):
        if (
            self.min_chars is not None
            and self.max_chars is not None
            and self.min_chars > self.max_chars
        ):
            raise ValueError("min_chars 不能大于 max_chars")
        return self


class NumberField(FieldBase):
    input_limit: ClassVar[int] = 40
    type: Literal["number"]
    min: Decimal | None = None
    max: Decimal | None = None
    decimals: int = Field(default=0, ge=0, le=6)
    unit: str = ""


class Option(Strict):
    value: str = Field(min_length=1, max_length=64)
    label: str = Field(min_length=1)
    # With ``prefill = "org.stages"``: the org's stages this option stands for (中学 for
    # junior and senior). Without it an option matches the stage of its own value.
    stages: list[StageName] = Field(default_factory=list)


class ChoiceField(FieldBase):
    input_limit: ClassVar[int] = 64
    type: Literal["choice"]
    options: list[Option] = Field(min_length=1)
    multiple: bool = False

    @field_validator("options")
    @classmethod
    def _unique(cls, v):
        values = [o.value for o in v]
        if len(values) != len(set(values)):
            raise ValueError("选项值重复")
        return v


class DateField(FieldBase):
    input_limit: ClassVar[int] = 32
    type: Literal["date"]
    min: dt.date | None = None
    max: dt.date | None = None


class PhoneField(FieldBase):
    input_limit: ClassVar[int] = 40
    type: Literal["phone"]
    kind: Literal["mobile", "landline", "any"] = "any"


class EmailField(FieldBase):
    input_limit: ClassVar[int] = 254
    type: Literal["email"]


class BoolField(FieldBase):
    type: Literal["bool"]


class TopicField(FieldBase):
    """The programme topic (选题) this application takes; options come from the category."""

    input_limit: ClassVar[int] = 64

    type: Literal["topic"]


# The file kinds an attachment field may accept (``accept``), checked by content on upload.
ACCEPT_KINDS = ("pdf", "jpg", "png", "docx", "xlsx", "pptx")


class AttachmentField(FieldBase):
    """Uploaded files, checked by content: e.g. the stamped scan of the application form."""

    type: Literal["attachment"]
    kind: Key = "document"
    # The kinds of file this field takes, judged by content (applications.evidencecheck):
    # PDF scans, photos (JPG, PNG), Office files (DOCX, XLSX, PPTX).
    accept: list[str] = Field(default_factory=lambda: ["pdf"], min_length=1)
    max_mb: int = Field(default=20, ge=1, le=200)
    min_count: int = Field(default=0, ge=0)
    max_count: int = Field(default=1, ge=1, le=50)

    @field_validator("accept")
    @classmethod
    def _known_kinds(cls, v):
        for i, kind in enumerate(v):
            if kind not in ACCEPT_KINDS:
                raise LocatedValueError(
                    f"不认识的文件类型 “{kind}”，可用：{'、'.join(ACCEPT_KINDS)}"
                    + ("（JPEG 照片写 jpg）" if kind.lower() in ("jpeg", "image") else ""),
                    (i,),
                )
        if len(set(v)) != len(v):
            raise ValueError("accept 中文件类型重复")
        return v

    @field_validator("max_mb")
    @classmethod
    def _within_ceiling(cls, v):
        # The operator's ceiling (EDUPILOT_MAX_UPLOAD_MB, docs/deployment.md) bounds every field.
        ceiling = settings.EDUPILOT_MAX_UPLOAD_MB
        if v > ceiling:
            raise ValueError(
                f"max_mb = {v} 超过本站允许的单个文件上限 {ceiling} MB（EDUPILOT_MAX_UPLOAD_MB）"
            )
        return v

    @model_validator(mode="after")
    def _counts(self):
        if self.min_count > self.max_count:
            raise ValueError("min_count 不能大于 max_count")
        if self.kind == "stamped_form" and self.accept != ["pdf"]:
            raise LocatedValueError('盖章申报表（kind = "stamped_form"）只接受 PDF', ("accept",))
        return self


class MembersField(FieldBase):
    """A list of member schools chosen from the applicant's subtree (region bids)."""

    type: Literal["members"]
    kinds: list[OrgKindName] = Field(default_factory=lambda: ["school"])
    stages: list[StageName] = Field(default_factory=list)
    min_items: int = Field(default=0, ge=0)
    max_items: int | None = Field(default=None, ge=1)


# Every field type but the group; a group holds only (the simple ones of) these.
SCALAR_TYPES = (
    TextField
    | LongTextField
    | NumberField
    | ChoiceField
    | DateField
    | PhoneField
    | EmailField
    | BoolField
    | TopicField
    | AttachmentField
    | MembersField
)
ScalarField = Annotated[SCALAR_TYPES, Field(discriminator="type")]

GROUP_ITEM_TYPES = ("text", "longtext", "number", "choice", "date", "phone", "email", "bool")


class GroupField(FieldBase):
    """A repeating group of simple fields (rows of a table such as team members)."""

    type: Literal["group"]
    fields: list[ScalarField] = Field(min_length=1)
    min_items: int = Field(default=0, ge=0)
    max_items: int = Field(default=50, ge=1, le=500)

    @model_validator(mode="after")
    def _simple_only(self):
        for f in self.fields:
            if f.type not in GROUP_ITEM_TYPES:
                raise ValueError(f"重复组内不能使用 {f.type} 类型的字段（{f.key}）")
        if self.min_items > self.max_items:
            raise ValueError("min_items 不能大于 max_items")
        _unique_keys(self.fields, "重复组", ("fields",))
        return self


FormField = Annotated[SCALAR_TYPES | GroupField, Field(discriminator="type")]


def _unique_keys(fields, where: str, loc: tuple = ()) -> None:
    seen = set()
    for i, f in enumerate(fields):
        if f.key in seen:
            raise LocatedValueError(f"{where}中字段 key 重复：{f.key}", (*loc, i, "key"))
        seen.add(f.key)


class Section(Strict):
    key: Key
    title: str = Field(min_length=1)
    help: str = ""
    fields: list[FormField] = Field(min_length=1)


class OpinionBox(Strict):
    """An 意见 box of the paper form: who writes it, and its title."""

    key: Key
    title: str = Field(min_length=1)
    # "applicant" (the unit's own opinion), "experts", or a review level key.
    by: str = Field(min_length=1)
    stamp: bool = True


class Form(Strict):
    title: str = Field(min_length=1)
    instructions: list[str] = Field(default_factory=list)
    sections: list[Section] = Field(min_length=1)
    opinions: list[OpinionBox] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique(self):
        _unique_keys(self.sections, "表单分节", ("sections",))
        seen: set[str] = set()
        for si, section in enumerate(self.sections):
            for fi, f in enumerate(section.fields):
                if f.key in seen:
                    raise LocatedValueError(
                        f"表单中字段 key 重复：{f.key}", ("sections", si, "fields", fi, "key")
                    )
                seen.add(f.key)
        if sum(1 for s in self.sections for f in s.fields if f.type == "members") > 1:
            raise ValueError("一个表单最多只能有一个成员名单字段")
        return self

    def all_fields(self):
        for section in self.sections:
            yield from section.fields

    def field(self, key: str):
        for f in self.all_fields():
            if f.key == key:
                return f
        return None
