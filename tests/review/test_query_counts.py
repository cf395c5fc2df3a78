"""Constant queries as the rows grow: the reviewer's pages with 5 rows and with 50.

Five bids are submitted through the applicant's services (two recommended by the city, so
the lower-level and own-rank columns have values); 45 more are copies of a waiting one for
new schools of the same county. Counted through the test client (middleware, session,
templates): the number of queries, never the time.
"""

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from edupilot.applications.models import Application
from edupilot.review import services
from tests.conftest import make_school, org

from .conftest import reviewer


def _queries(client, url, params=None) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params or {})
    assert response.status_code == 200, (url, response.status_code)
    return len(ctx.captured_queries)


def _copies(app: Application, n: int) -> None:
    """``n`` more bids like ``app`` (same chain, waiting at the same level), new schools."""
    county = app.applicant_org.parent
    for _ in range(n):
        school = make_school(county)
        Application.objects.create(
            programme=app.programme,
            category=app.category,
            topic=app.topic,
            applicant_org=school,
            applicant_path=school.path,
            state=app.state,
            title=school.name,
            data=app.data,
            version=app.version,
            chain=app.chain,
            current_step=app.current_step,
            current_org=app.current_org,
            submitted_at=app.submitted_at,
        )


def test_reviewer_pages_issue_the_same_queries_for_5_and_50_rows(client, henan, henan_school_app):
    city = reviewer("郑州市")
    apps = [henan_school_app()[0] for _ in range(5)]
    for a in apps[:2]:
        services.review_recommend(
            application=a, scope=city.scope, actor=city.actor, opinion="同意推荐。"
        )
    client.force_login(city.user)
    queue = reverse("review:queue")
    area = {"area": org("金水区").pk}
    api = "/api/v1/review/queue"
    detail = reverse("review:detail", args=[apps[-1].pk])
    pages = [(queue, {}), (queue, area), (queue, {"state": "passed"}), (api, {}), (detail, {})]
    for url, params in pages:
        client.get(url, params)  # warm the process's caches (parsed spec, content types)
    few = [_queries(client, url, params) for url, params in pages]
    assert client.get(queue).context["page"].paginator.count == 3

    _copies(apps[-1], 47)
    many = [_queries(client, url, params) for url, params in pages]
    page = client.get(queue).context["page"]
    assert page.paginator.count == 50 and len(page.object_list) == 50
    assert many == few, list(zip([u for u, _ in pages], few, many, strict=True))


def test_api_queue_builds_no_quota_summary_nor_county_list(client, henan, henan_school_app):
    """The API answers rows only: it runs neither the quota queries nor the county list's."""
    city = reviewer("郑州市")
    henan_school_app()
    client.force_login(city.user)
    client.get("/api/v1/review/queue")
    with CaptureQueriesContext(connection) as ctx:
        body = client.get("/api/v1/review/queue").json()
    assert body["count"] == 1
    sql = " ".join(q["sql"] for q in ctx.captured_queries)
    assert "programmes_quotaallocation" not in sql
    assert '"kind" IN' not in sql  # the county list (cities, counties, zones of the subtree)


def test_application_page_does_not_load_the_programme_file(client, henan, henan_school_app):
    a, school = henan_school_app()
    city = reviewer("郑州市")
    for who in (city, school):
        client.force_login(who.user)
        client.get(reverse("review:detail", args=[a.pk]))
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("review:detail", args=[a.pk])).status_code == 200
        assert not any("source_text" in q["sql"] for q in ctx.captured_queries)


def test_applicant_home_does_not_load_forms_nor_programme_files(client, henan, henan_school_app):
    _a, school = henan_school_app()
    client.force_login(school.user)
    url = reverse("applications:home")
    client.get(url)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200 and school.org.name in response.content.decode()
    sql = [q["sql"] for q in ctx.captured_queries]
    assert not any("source_text" in s for s in sql)
    assert not any('"applications_application"."data"' in s for s in sql)


def test_reviewer_pages_stay_within_their_query_budget(
    client, henan, henan_school_app, django_assert_max_num_queries
):
    """Each page's queries, named (issue 12 §6). Every page: session, user, membership (the
    unread badge is the user row's counter, no query). Queue: the programmes (their folds
    read from them, no second programme query), the county list, the page's rows with their
    count (``COUNT(*) OVER ()``) and their applicant's and parent's names, the lower levels'
    recommendations, the quota use and rows. API: the same without county list and quota. Application page: the
    scope's check of the application (a small query of its own, so that the row with its
    lineage — seven joined models — is read by a query compiled once per process), the
    application with the lineage, its files, versions and decisions, the quota row and use
    with the level's next rank. Applicant home: its bids, the open programmes, its lists with its
    memberships in others' bids (one UNION ALL)."""
    city = reviewer("郑州市")
    a, school = henan_school_app()
    services.review_recommend(
        application=henan_school_app()[0], scope=city.scope, actor=city.actor, opinion="同意。"
    )
    budget = [
        (city, reverse("review:queue"), {}, 9),
        (city, reverse("review:queue"), {"area": org("金水区").pk}, 9),
        (city, "/api/v1/review/queue", {}, 6),
        (city, reverse("review:detail", args=[a.pk]), {}, 11),
        (school, reverse("applications:home"), {}, 6),
    ]
    for who, url, params, most in budget:
        client.force_login(who.user)
        client.get(url, params)  # warm the process's caches
        with django_assert_max_num_queries(most):
            assert client.get(url, params).status_code == 200


def test_application_page_counts_next_rank_with_the_quota_use(client, henan, henan_school_app):
    """The level's next rank is counted in the quota use's query, and the quota bucket's
    lineage comes with the application (its ancestors selected with it): the page asks
    neither separately, and both numbers stay right."""
    city = reviewer("郑州市")
    for _ in range(2):
        services.review_recommend(
            application=henan_school_app()[0], scope=city.scope, actor=city.actor, opinion="同意。"
        )
    a, _school = henan_school_app()
    client.force_login(city.user)
    url = reverse("review:detail", args=[a.pk])
    client.get(url)
    with CaptureQueriesContext(connection) as ctx:
        review = client.get(url).context["review"]
    assert review.next_rank == 3
    assert review.quota and review.quota[0].used == 2
    assert review.quota[0].holder.name == "郑州市"
    sql = [q["sql"] for q in ctx.captured_queries]
    decisions = [s for s in sql if 'FROM "review_reviewdecision"' in s and "COUNT(" in s]
    assert len(decisions) == 1, decisions  # use and ranks together
    assert not any('FROM "orgs_org"' in s and '"code" IN' in s for s in sql)  # no lineage query


def test_application_page_reads_only_keys_and_names_of_the_ancestors(
    client, henan, henan_school_app
):
    """The applicant's ancestors come with the application for the quota lineage; of them the
    query reads what the lineage, folds and titles' rules use, not their contacts, counts and
    JSON attributes (the applicant's and the current org's are read whole), and asks no
    deferred column afterwards; the decisions likewise bring their org's and reviewer's
    names only. The reviewers' and the applicant's page alike."""
    a, school = henan_school_app()
    city, province = reviewer("郑州市"), reviewer("河南省")
    services.review_recommend(application=a, scope=city.scope, actor=city.actor, opinion="同意。")
    for who in (province, city, school):
        client.force_login(who.user)
        client.get(reverse("review:detail", args=[a.pk]))
        with CaptureQueriesContext(connection) as ctx:
            page = client.get(reverse("review:detail", args=[a.pk]))
        assert page.status_code == 200 and "同意。" in page.content.decode()
        (query,) = [
            q["sql"]
            for q in ctx.captured_queries
            if q["sql"].startswith('SELECT "applications_application"."id"')
            and '"applications_application"."id" = ' in q["sql"]
        ]
        # The applicant whole, one copy of each org column, not six; of the current org
        # its name (the applicant's, four ancestors', the current org's).
        assert query.count('."contact_email"') == 1 and query.count('."extra"') == 1
        assert query.count('."tier"') == 5 and query.count('."name"') == 6
        # The decisions come with their org's name and reviewer's name, no password hash.
        (decisions,) = [
            q["sql"]
            for q in ctx.captured_queries
            if 'FROM "review_reviewdecision"' in q["sql"] and '"accounts_user"' in q["sql"]
        ]
        assert '"password"' not in decisions and '."contact_email"' not in decisions
        # The versions likewise, with their submitter's names.
        (versions,) = [
            q["sql"]
            for q in ctx.captured_queries
            if 'FROM "applications_applicationversion"' in q["sql"]
        ]
        assert '"accounts_user"."full_name"' in versions and '"password"' not in versions
        # Nothing read later of a deferred column (Django loads one by the row's id alone;
        # the one user read by id is the session's).
        by_id = [
            q["sql"]
            for q in ctx.captured_queries
            if 'FROM "orgs_org" WHERE "orgs_org"."id" = ' in q["sql"]
            or 'FROM "accounts_user" WHERE "accounts_user"."id" = ' in q["sql"]
        ]
        assert len(by_id) == 1 and '"accounts_user"."password"' in by_id[0], by_id


def test_queue_pages_count_with_their_rows_and_fall_back_past_the_end(
    client, henan, henan_school_app
):
    """The count comes with the page's rows; a page past the end (or below 1) shows the last
    page, a page that is not a number the first, as ``Paginator.get_page`` does."""
    city = reviewer("郑州市")
    app = henan_school_app()[0]
    _copies(app, 51)
    client.force_login(city.user)
    queue = reverse("review:queue")
    expect = {"1": (1, 50), "2": (2, 2), "9": (2, 2), "0": (2, 2), "x": (1, 50), "": (1, 50)}
    for number, (shown, rows) in expect.items():
        page = client.get(queue, {"page": number}).context["page"]
        assert (page.number, len(page.object_list), page.paginator.count) == (shown, rows, 52)
        assert page.paginator.num_pages == 2
    api = client.get("/api/v1/review/queue", {"page": 2}).json()
    assert (api["page"], api["pages"], api["count"], len(api["items"])) == (2, 2, 52, 2)
    client.force_login(reviewer("开封市").user)
    page = client.get(queue, {"page": 3}).context["page"]
    assert (page.number, list(page.object_list), page.paginator.count) == (1, [], 0)


def test_the_prepared_count_of_use_and_ranks_is_the_generic_one(henan, henan_school_app):
    """The page's bucket use with its level's ranks, read by the query compiled once
    (``quotas._use_and_ranks``), gives what the general path (any earlier rounds, any level
    condition) counts with ``aggregate`` — for a city with recommendations and one without."""
    from django.db.models import Count

    from edupilot.review.locks import level_q
    from edupilot.review.models import ReviewDecision
    from edupilot.review.quotas import _split_shared, _use_and_ranks

    city = reviewer("郑州市")
    for _ in range(2):
        services.review_recommend(
            application=henan_school_app()[0], scope=city.scope, actor=city.actor, opinion="同意。"
        )
    a, _school = henan_school_app()
    step = a.current_step
    [(policy, bucket)] = services.quota_buckets(a, step)
    key = services._level_key(a, step)
    for holder in (bucket.holder, org("洛阳市")):
        state = services.quota_state(a, policy, bucket)
        state.holder = holder
        shared, holders, also = _split_shared(state.holders_q(), level_q(key))
        want = ReviewDecision.objects.filter(shared & (holders | also)).aggregate(
            used=Count("pk", filter=holders), also=Count("pk", filter=also)
        )
        got = list(
            _use_and_ranks(
                a.programme_id, a.category, state.level, holder.pk, state.direct, *key[2:]
            )
        )
        assert got == [(want["used"], want["also"])]
    assert want["used"] == 0 and got[0][1] == 2  # 洛阳市 holds none; the level's two ranks


def test_queue_compiles_only_its_scoped_reads_after_the_first_request(
    client, henan, henan_school_app, compiles
):
    """The county list, the quota summary and the page's recommendations have a fixed shape:
    compiled to SQL once per process (core.prepared). What depends on the scope (the
    programmes concerning it, the page of applications) is built with every request."""
    from edupilot.orgs.models import Org
    from edupilot.programmes.models import QuotaAllocation
    from edupilot.review.models import ReviewDecision

    city = reviewer("郑州市")
    apps = [henan_school_app()[0] for _ in range(3)]
    services.review_recommend(
        application=apps[0], scope=city.scope, actor=city.actor, opinion="同意推荐。"
    )
    client.force_login(city.user)
    queue = reverse("review:queue")
    pages = [(queue, {}), (queue, {"area": org("金水区").pk}), ("/api/v1/review/queue", {})]
    for url, params in pages:
        assert client.get(url, params).status_code == 200
    seen = compiles
    for url, params in pages:
        seen.clear()
        response = client.get(url, params)
        assert response.status_code == 200
        assert Application in seen, url  # the page of applications: the scope's
        assert not {Org, QuotaAllocation, ReviewDecision} & set(seen), (url, seen)
