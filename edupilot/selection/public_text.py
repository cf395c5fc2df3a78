"""Personal data in text that will be published (a 公示's introduction): phone numbers,
e-mail addresses and resident ID numbers are refused, not only warned about, because the
public page must show no person (the issuer gives contacts of an office in writing, not here).
"""

from __future__ import annotations

import re

from django.utils.translation import pgettext_lazy

# Digits not glued to other digits (a long number's tail is not a phone number).
_NOT_DIGIT_BEFORE = r"(?<![0-9０-９])"
_NOT_DIGIT_AFTER = r"(?![0-9０-９])"

FINDERS: tuple[tuple[object, re.Pattern], ...] = (  # (kind, shown through gettext)
    (
        pgettext_lazy("personal data", "身份证号"),
        re.compile(
            _NOT_DIGIT_BEFORE
            + r"[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx]"
            + _NOT_DIGIT_AFTER
        ),
    ),
    (
        pgettext_lazy("personal data", "电子邮箱"),
        re.compile(r"[A-Za-z0-9._%+-]+\s*(?:@|＠)\s*[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"),
    ),
    # Mobile: 11 digits from 13x to 19x, spaces or hyphens allowed as 3-4-4 (+86 optional).
    (
        pgettext_lazy("personal data", "电话号码"),
        re.compile(
            _NOT_DIGIT_BEFORE + r"(?:\+?86[-\s]?)?1[3-9]\d[-\s]?\d{4}[-\s]?\d{4}" + _NOT_DIGIT_AFTER
        ),
    ),
    # Landline with its area code: 0371-65901234, (0371)65901234, 010 8888 6666.
    (
        pgettext_lazy("personal data", "电话号码"),
        re.compile(
            _NOT_DIGIT_BEFORE
            + r"(?:[(（]0\d{2,3}[)）]\s*|0\d{2,3}[-－\s])\d{3,4}[-\s]?\d{4}"
            + _NOT_DIGIT_AFTER
        ),
    ),
)


def personal_data_in(text: str) -> list[tuple[str, str]]:
    """``[(kind, what was found)]`` for every phone number, e-mail address or ID number in
    ``text``, in order of kind (full-width digits count as digits)."""
    if not text:
        return []
    plain = text.translate({ord("０") + i: str(i) for i in range(10)})
    found: list[tuple[str, str]] = []
    seen: set[str] = set()
    for kind, pattern in FINDERS:
        for m in pattern.finditer(plain):
            hit = m.group(0).strip()
            if any(hit in s or s in hit for s in seen):
                continue
            seen.add(hit)
            found.append((kind, hit))
    return found
