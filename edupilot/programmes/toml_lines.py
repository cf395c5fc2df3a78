"""Find the line of a value in a TOML text, so errors can name file, line and field.

tomllib gives no positions, so this walks the text once and records, for every table
header, array-of-tables element, key and element of a multi-line array of inline tables,
the line where it starts. It understands the TOML that programme files use (headers,
dotted keys, arrays of tables, one inline table per line); for anything fancier it falls
back to the nearest enclosing entry, which still points the reader to the right place.
"""

from __future__ import annotations

import re

_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*(\]\]?)\s*(#.*)?$")
_KEY = re.compile(
    r"""^\s*((?:"[^"]*"|'[^']*'|[A-Za-z0-9_\-]+)(?:\s*\.\s*(?:"[^"]*"|'[^']*'|[A-Za-z0-9_\-]+))*)\s*=\s*(.*)$"""
)
_INLINE_ITEM = re.compile(r"^\s*\{")


def _split_key(raw: str) -> list[str]:
    parts = []
    for m in re.finditer(r'"([^"]*)"|\'([^\']*)\'|([A-Za-z0-9_\-]+)', raw):
        parts.append(next(g for g in m.groups() if g is not None))
    return parts


class LineIndex:
    def __init__(self, text: str):
        self.lines: dict[tuple, int] = {}
        self._array_counts: dict[tuple, int] = {}
        self._build(text)

    def _build(self, text: str) -> None:
        table: tuple = ()
        in_array: tuple | None = None  # the key path of a multi-line array being read
        array_index = 0
        depth = 0
        multiline_string = None
        for lineno, line in enumerate(text.splitlines(), start=1):
            stripped = line.strip()
            if multiline_string:
                if multiline_string in line:
                    multiline_string = None
                continue
            if in_array is not None:
                is_item = _INLINE_ITEM.match(line) or (
                    stripped and not stripped.startswith(("#", "]"))
                )
                if is_item and depth == 1 and not stripped.startswith("#"):
                    self.lines.setdefault((*in_array, array_index), lineno)
                    # Keys inside a one-line inline table.
                    for key in re.findall(r"([A-Za-z0-9_]+)\s*=", stripped):
                        self.lines.setdefault((*in_array, array_index, key), lineno)
                    array_index += stripped.count("},") + (1 if stripped.endswith("}") else 0) or 1
                depth += line.count("[") - line.count("]")
                if depth <= 0:
                    in_array = None
                continue
            if not stripped or stripped.startswith("#"):
                continue
            m = _HEADER.match(line)
            if m and not _KEY.match(line):
                path = tuple(_split_key(m.group(2)))
                if m.group(1) == "[[":
                    idx = self._array_counts.get(path, 0)
                    self._array_counts[path] = idx + 1
                    # Nested arrays of tables restart counting under a new parent element.
                    for other in list(self._array_counts):
                        if len(other) > len(path) and other[: len(path)] == path:
                            del self._array_counts[other]
                    table = self._resolve(path) + (idx,)
                else:
                    table = self._resolve(path)
                self.lines.setdefault(table, lineno)
                continue
            m = _KEY.match(line)
            if m:
                key = tuple(_split_key(m.group(1)))
                full = table + key
                self.lines.setdefault(full, lineno)
                value = m.group(2).strip()
                for quote in ('"""', "'''"):
                    if value.startswith(quote) and value.count(quote) == 1:
                        multiline_string = quote
                if value.startswith("[") and value.count("[") > value.count("]"):
                    in_array = full
                    array_index = 0
                    depth = value.count("[") - value.count("]")
                elif value.startswith("["):
                    # A one-line array: point its elements at this line.
                    for i in range(value.count(",") + 1):
                        self.lines.setdefault((*full, i), lineno)

    def _resolve(self, path: tuple) -> tuple:
        """Map a header path such as (categories, review) to its indexed form."""
        out: list = []
        for i, part in enumerate(path):
            out.append(part)
            if i == len(path) - 1:
                break
            count = self._array_counts.get(tuple(p for p in out if not isinstance(p, int)))
            if count is not None:
                out.append(count - 1)
        # The header's own array index is appended by the caller.
        return tuple(out)

    def line_for(self, loc: tuple) -> int | None:
        """The line of the longest known prefix of ``loc``."""
        loc = tuple(loc)
        while loc:
            if loc in self.lines:
                return self.lines[loc]
            loc = loc[:-1]
        return None
