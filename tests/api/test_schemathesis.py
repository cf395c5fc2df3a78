"""Every operation of the OpenAPI, fuzzed by schemathesis from the app's own schema: no
request, however odd, gets a 5xx. Bounded (a few derandomized examples per operation) so
that it runs in the normal suite on SQLite and on PostgreSQL.

Requests go through the real WSGI application with a real session and CSRF token, as an
applicant with a draft and as a reviewer with a queue, so that the handlers behind the
404s are reached too.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.middleware.csrf import _get_new_csrf_string
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

from edupilot.applications.models import Application
from edupilot.orgs.models import Role
from tests.applications.conftest import Who
from tests.conftest import make_school, org

EXAMPLES = 6  # per operation, mode and user
OPENAPI = "/api/v1/openapi.json"


def browser_session(client, user) -> dict[str, dict[str, str]]:
    """Cookies and header of a logged-in browser session (session id and CSRF token)."""
    client.force_login(user)
    token = _get_new_csrf_string()
    session = client.cookies["sessionid"].value
    return {
        "cookies": {"sessionid": session, "csrftoken": token},
        "headers": {"X-CSRFToken": token},
    }


@pytest.fixture
def users(client, programmes):
    school = Who(make_school(org("金水区"), name="金水区接口模糊测试小学", stages=",primary,"))
    client.force_login(school.user)
    client.post("/applications/start/", {"programme": "henan-tencent-2019", "category": "school"})
    reviewer = Who(org("郑州市"), Role.REVIEWER)
    draft = Application.objects.get(applicant_org=school.org)
    return {
        "applicant": (school.user, {"pk": draft.pk, "code": "henan-tencent-2019"}),
        "reviewer": (reviewer.user, {"pk": draft.pk, "code": "henan-tencent-2019"}),
    }


@pytest.fixture
def wsgi_app():
    """The real WSGI application, kept off closing the test's database connection around each
    request (as Django's test client does)."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        for signal in (request_started, request_finished):
            signal.connect(close_old_connections)


def strategies(operation, objects):
    """Valid and invalid requests with random path parameters, and again on real objects
    (so that the draft PUT reaches the form behind a real draft)."""
    names = {p.name for p in operation.path_parameters}
    pinned = {k: v for k, v in objects.items() if k in names}
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        yield operation.as_strategy(generation_mode=mode)
        if pinned:
            yield operation.as_strategy(generation_mode=mode, path_parameters=pinned)


def fuzz(strategy, session) -> list[str]:
    failures: list[str] = []

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def run(case):
        response = case.call(**session)
        if response.status_code >= 500:
            failures.append(
                f"{case.method} {case.formatted_path} {case.query or ''} "
                f"{str(case.body)[:200]} -> {response.status_code}"
            )

    run()
    return failures


@pytest.mark.parametrize("who", ["applicant", "reviewer"])
def test_no_operation_answers_5xx(client, users, wsgi_app, who):
    schema = schemathesis.openapi.from_wsgi(OPENAPI, wsgi_app)
    user, objects = users[who]
    session = browser_session(client, user)
    failures: list[str] = []
    count = 0
    for result in schema.get_all_operations():
        count += 1
        for strategy in strategies(result.ok(), objects):
            failures += fuzz(strategy, session)
    assert count >= 15  # the whole API was covered
    assert not failures, "\n".join(failures[:20])
