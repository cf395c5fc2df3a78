"""HTML compared as a browser lays it out: the tests that put a tag beside the template it
replaced compare both outputs with their white space collapsed."""

from __future__ import annotations

import re


def collapse(html: str) -> str:
    """Runs of white space as one space, none between tags."""
    return re.sub(r">\s+<", "><", re.sub(r"\s+", " ", html)).strip()
