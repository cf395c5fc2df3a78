"""A dashboard's tables: one per chart, the source of truth for the page, the chart and the XLSX.

A :class:`Table` holds raw values (ints, ratios, datetimes, ``None``); the page shows
:attr:`Table.display` (formatted text), the chart reads :meth:`Table.chart_data` (numbers
only, from the same rows) and :class:`TableExport` writes the same rows to XLSX, so the three
cannot disagree.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.translation import gettext_lazy

from edupilot.documents.xlsx import Column, XlsxExport

# A quota without a limit (a text cell: it is no number); str() it where it is used, so that
# cells, sums and the XLSX hold plain text in the request's language.
UNLIMITED = gettext_lazy("不限")
NONE = "—"


@dataclass
class Chart:
    """Which columns a chart plots, and how (ECharts options are built in dashboards.js)."""

    series: list[int]  # column indexes, each a bar series
    stack: bool = False
    horizontal: bool = False
    percent: bool = False  # values are ratios 0..1, plotted as 0..100 %


@dataclass
class Table:
    key: str
    title: str
    caption: str
    columns: list[Column]
    chart: Chart | None = None
    rows: list[list] = field(default_factory=list)
    links: list[str | None] = field(default_factory=list)  # the first cell's link, per row
    total: list | None = None
    empty: str = gettext_lazy("暂无数据。")
    note: str = ""

    def add(self, values: list, link: str | None = None) -> None:
        self.rows.append(values)
        self.links.append(link)

    @property
    def headers(self) -> list[str]:
        return [c.header for c in self.columns]

    @property
    def display(self) -> list[dict]:
        """The rows as the page shows them: the label, its link and the formatted cells."""
        return [
            {"label": str(row[0]), "link": link, "cells": self._formatted(row)[1:]}
            for row, link in zip(self.rows, self.links, strict=True)
        ]

    @property
    def display_total(self) -> list[str] | None:
        return self._formatted(self.total)[1:] if self.total is not None else None

    def _formatted(self, row: list) -> list[str]:
        return [fmt(v, c.kind) for v, c in zip(row, self.columns, strict=True)]

    def chart_data(self) -> dict | None:
        """What dashboards.js plots: categories and one series per charted column."""
        if self.chart is None or not self.rows:
            return None
        scale = 100 if self.chart.percent else 1
        return {
            "title": self.title,
            "categories": [str(r[0]) for r in self.rows],
            "stack": self.chart.stack,
            "horizontal": self.chart.horizontal,
            "percent": self.chart.percent,
            "series": [
                {
                    "name": self.columns[i].header,
                    "data": [
                        round(r[i] * scale, 1) if isinstance(r[i], int | float) else None
                        for r in self.rows
                    ],
                }
                for i in self.chart.series
            ],
        }


def fmt(value, kind: str) -> str:
    if value is None or value == "":
        return NONE
    if isinstance(value, str):
        return value
    if kind == "percent":
        return f"{value:.1%}"
    if kind == "datetime" and isinstance(value, dt.datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    return str(value)


def ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


class TableExport(XlsxExport):
    """One table as an XLSX sheet: the rows, then the total row (what the page shows)."""

    def __init__(self, table: Table, heading: str):
        self.table = table
        self.title = table.title
        self.heading = heading
        self.columns = table.columns

    def filename(self) -> str:
        return f"{self.heading}.xlsx"

    def rows(self):
        yield from self.table.rows
        if self.table.total is not None:
            yield self.table.total
