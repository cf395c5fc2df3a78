"""The whole demo, walked as its users walk it: each account follows the links its pages
offer (same site, GET), and none leads to a server error or to a page that refuses it — a
menu entry or button offered to someone who may not use it is a bug (a unit's reviewer was
once offered 统计看板 and got a 403)."""

from __future__ import annotations

import re
from collections import deque

import pytest
from lxml import html

from edupilot import demo as site_demo
from edupilot.accounts.models import User

pytestmark = pytest.mark.django_db

# One account of each kind of user the demo has: platform and programme admins, a city's and
# a centre's reviewer, a joint review's department, a certification bureau, a school with a
# pilot, a school with a bid, an expert.
ACCOUNTS = (
    "admin", "henan_admin", "zhengzhou", "hengyang_djg", "henan_czt", "xihu_cert",
    "school_jinjiang", "school_xinan", "expert_luoyang",
)  # fmt: skip
# Files and actions are not pages to walk (downloads, exports, language and identity switches).
SKIP = re.compile(
    r"logout|setlang|/switch|\.pdf$|\.xlsx$|\.csv$|/download|/export|/files?/|/blobs?/|/api/"
)
PAGES_EACH = 80


@pytest.fixture
def demo_site(seeded):
    # A small tree: every demo part still finds its schools (西湖区 may have none; the demo says
    # so and goes on).
    site_demo.load_demo(scale=0.05)


def walk(client, start: str = "/") -> list[tuple[int, str, str]]:
    """(status, url, the page that linked it) for each page reached, breadth first."""
    seen, queue, out = set(), deque([(start, "")]), []
    while queue and len(seen) < PAGES_EACH:
        url, via = queue.popleft()
        if url in seen:
            continue
        seen.add(url)
        response = client.get(url)
        out.append((response.status_code, url, via))
        if response.status_code == 302 and response["Location"].startswith("/"):
            queue.appendleft((response["Location"], url))  # the landing page of a role
            continue
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        for href in html.fromstring(response.content).xpath("//a/@href"):
            href = href.split("#")[0]
            if href.startswith("/") and not SKIP.search(href) and href not in seen:
                queue.append((href, url))
    return out


def test_every_link_a_demo_user_is_offered_opens(client, demo_site):
    """One demo build (the expensive part), walked by each account in turn and by a visitor."""
    refused = {}
    for username in ACCOUNTS:
        client.force_login(User.objects.get(username=username))
        reached = walk(client)
        assert len(reached) > 10, (username, reached)
        refused[username] = [(s, url, via) for s, url, via in reached if s not in (200, 302)]
        client.logout()
    reached = walk(client, "/public/")
    assert len(reached) > 5
    refused["visitor"] = [(s, url, via) for s, url, via in reached if s not in (200, 302)]
    assert not any(refused.values()), {k: v for k, v in refused.items() if v}
