"""The paper a notice comes with: its summary tables (汇总表) and ``[notice]``, the notice as
issued with its attachments (docs/programme-format.md, "Summary tables", "The notice as issued")."""

from __future__ import annotations

from pydantic import Field

from .schema_base import Key, Strict

# org.region: the applicant's parent org (its county, or its city for a city-direct unit);
# rank: the reviewing level's recommendation rank; members.count: schools in a region bid.
SUMMARY_SOURCES = ("org.name", "org.code", "org.address", "org.postcode", "org.region", "category", "topic", "title", "rank", "members.count", "seq", "blank")  # fmt: skip


class SummaryColumn(Strict):
    label: str = Field(min_length=1)
    # A form field key, or one of SUMMARY_SOURCES.
    source: str = Field(min_length=1)
    # A header spanning several adjacent columns (试点工作负责人 over 姓名/职务/联系电话/电子邮箱).
    group: str = ""


class SummaryTable(Strict):
    """A summary table (汇总表) a review level fills in for the applications it passes on.

    The documents app renders it (XLSX/PDF); here it is only declared, so that its columns
    follow the notice's attachment and point at real form fields.
    """

    key: Key
    title: str = Field(min_length=1)
    # The review level key whose org fills and stamps it.
    by: Key
    categories: list[Key] = Field(default_factory=list)
    # Lines above the table on the paper form, e.g. "申报单位（盖章）", "填表人", "联系电话".
    header: list[str] = Field(default_factory=list)
    columns: list[SummaryColumn] = Field(min_length=1)


class NoticeAttachment(Strict):
    title: str = Field(min_length=1, max_length=200)
    # A file beside the programme file (a path relative to it): PDF, Word, Excel, PowerPoint,
    # an image or UTF-8 text.
    file: str = Field(min_length=1, max_length=255)


class Notice(Strict):
    """``[notice]``: the notice as issued, shown on the public call page: its full text (a UTF-8
    text file) and its attachments (the original documents, downloadable). Files sit beside
    the programme file and are read when it is loaded (programmes/notice_files.py)."""

    text: str = Field(default="", max_length=255)
    attachments: list[NoticeAttachment] = Field(default_factory=list, max_length=30)
