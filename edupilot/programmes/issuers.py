"""Several issuers: a notice issued jointly by several departments (``[[co_issuers]]``).

"省教育厅 省财政厅关于……的通知": the programme's ``issuer`` is the education bureau whose
subtree the programme covers (and whose staff run it); each co-issuer is named as printed
on the programme page, the public call page, the announcement (公示) and its PDF, and may
be an org of the tree, so that its staff can act in the programme's ``joint_review``
stages::

    [[co_issuers]]
    name = "河南省财政厅"          # as printed on the notice
    org = "410000-czt"            # optional: the department in the org tree
"""

from __future__ import annotations

from pydantic import Field

from .schema_base import LocatedValueError, Strict

# The programme's names as printed: ``Programme.issuer_names`` / ``issuers_text``.


class CoIssuer(Strict):
    name: str = Field(min_length=1, max_length=100)
    # A code or an exact name in the org tree (checked when the file is loaded).
    org: str = ""


def check_co_issuers(co_issuers: list[CoIssuer], issuer_name: str) -> None:
    """No department twice, and not the issuer again (``loc``: the element's field)."""
    names: set[str] = {issuer_name} if issuer_name else set()
    orgs: set[str] = set()
    for i, c in enumerate(co_issuers):
        if c.name in names:
            raise LocatedValueError(f"联合发文单位“{c.name}”重复", ("co_issuers", i, "name"))
        if c.org and c.org in orgs:
            raise LocatedValueError(f"联合发文单位的机构 {c.org} 重复", ("co_issuers", i, "org"))
        names.add(c.name)
        orgs.add(c.org)
