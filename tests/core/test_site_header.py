"""``{% site_header %}`` writes what base.html's header template wrote."""

import pytest
from django.template import Context, Template
from django.test import Client
from django.utils import translation

from edupilot.orgs.models import Membership, Role
from tests.conftest import make_school, make_user, org
from tests.html import collapse as _norm

# base.html's header before the tag (commit aee4dd7), with the loads it needed.
OLD_HEADER = (
    """{% load i18n %}{% get_current_language as LANG %}"""
    + """
<header class="topbar">
  <a class="brand" href="{% url 'core:home' %}">EduPilot</a>
  <nav class="mainnav" aria-label="{% trans '主导航' %}">
    {% if user.is_authenticated %}
      {% block nav %}{% for item in nav_items %}<a href="{{ item.url }}"{% if item.active %} aria-current="page"{% endif %}>{{ item.label }}</a>{% endfor %}{% endblock %}
    {% else %}
      <a href="{% url 'public_index' %}"{% if request.path|slice:":8" == "/public/" %} aria-current="page"{% endif %}>{% trans "公开信息" %}</a>
      <a href="{% url 'accounts:login' %}">{% trans "登录" %}</a>
    {% endif %}
  </nav>
  <div class="who">
    {% if user.is_authenticated %}
      {% if memberships|length > 1 %}
      <form method="post" action="{% url 'accounts:switch_membership' %}" class="inline">{% csrf_token %}
        <label class="sr-only" for="membership-switch">{% trans "当前身份" %}</label>
        <select id="membership-switch" name="membership" data-autosubmit>
          {% for m in memberships %}<option value="{{ m.pk }}"{% if m.pk == request.membership.pk %} selected{% endif %}>{{ m.org.name }} · {{ m.get_role_display }}</option>{% endfor %}
        </select>
        <noscript><button type="submit">{% trans "切换" %}</button></noscript>
      </form>
      {% elif request.membership %}<span class="muted">{{ request.membership.org.name }} · {{ request.membership.get_role_display }}</span>{% endif %}
      {% with unread=notifications_unread %}<a class="notif-link" href="{% url 'core:notification_list' %}">{% trans "通知" %}{% if unread %} <span class="badge warn"><span class="sr-only">{% trans "未读" %}</span>{{ unread }}</span>{% endif %}</a>{% endwith %}
      <span class="username">{{ user.display_name }}</span>
      <form method="post" action="{% url 'accounts:logout' %}" class="inline">{% csrf_token %}<button type="submit" class="link">{% trans "退出" %}</button></form>
    {% endif %}
    <form action="{% url 'core:set_language' %}" method="post" class="inline lang">{% csrf_token %}
      <input name="next" type="hidden" value="{{ request.get_full_path }}">
      {% if LANG == 'zh-hans' %}<button name="language" value="en" class="link">English</button>{% else %}<button name="language" value="zh-hans" class="link">中文</button>{% endif %}
    </form>
  </div>
</header>"""
)


def _header(html: str) -> str:
    return _norm(html[html.index('<header class="topbar">') : html.index("</header>") + 9])


def _compare(client: Client, path: str, language: str) -> str:
    client.cookies["django_language"] = language
    response = client.get(path, HTTP_ACCEPT_LANGUAGE=language, follow=True)
    assert response.status_code == 200
    context = response.context
    flat = (context[0] if isinstance(context, list) else context).flatten()
    request = flat["request"]
    with translation.override(language):
        old = Template(OLD_HEADER).render(Context(flat))
    new = _header(response.content.decode())
    assert new == _header(old)
    token = request.META["CSRF_COOKIE"]
    assert ("csrfmiddlewaretoken" in new) and token
    return new


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_anonymous_header_equals_the_former_template(seeded, language):
    client = Client()
    _compare(client, "/public/", language)
    _compare(client, "/accounts/login/", language)


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_applicant_header_equals_the_former_template(seeded, language):
    user = make_user(make_school(org("金水区"), "金水区<页头>小学"))
    client = Client()
    client.force_login(user)
    html = _compare(client, "/", language)
    assert 'class="muted">金水区&lt;页头&gt;小学 · ' in html and "<select" not in html


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_reviewer_with_two_memberships_header_equals_the_former_template(seeded, language):
    county = org("金水区")
    user = make_user(county, role=Role.REVIEWER)
    Membership.objects.create(user=user, org=county.parent, role=Role.REVIEWER)
    type(user).objects.filter(pk=user.pk).update(unread_notifications=3, full_name="<王&李>")
    client = Client()
    client.force_login(user)
    home = _compare(client, "/", language)
    page = _compare(client, "/notifications/?x=<&>", language)
    for html in (home, page):
        assert html.count("<option ") == 2 and " selected>" in html
        assert "&lt;王&amp;李&gt;" in html and '<span class="badge warn">' in html
        assert html.count("csrfmiddlewaretoken") == 3
    assert 'value="/notifications/?x=%3C&amp;%3E"' in page
    assert 'aria-current="page"' in home


OLD_ASSETS = """{% load static %}<link rel="stylesheet" href="{% static 'css/edupilot.css' %}">
  <script src="{% static 'vendor/htmx-2.0.11/htmx.min.js' %}" defer></script>
  <script src="{% static 'js/edupilot.js' %}" defer></script>
  <script src="{% static 'js/a11y.js' %}" defer></script>"""


def test_site_assets_writes_what_the_static_tags_wrote(settings):
    """``{% site_assets %}`` keeps the URLs per static URL and storage; a page shows them."""
    want = Template(OLD_ASSETS).render(Context({}))
    assert Template("{% load chrome %}{% site_assets %}").render(Context({})) == want
    settings.STATIC_URL = "/assets/"
    moved = Template(OLD_ASSETS).render(Context({}))
    assert "/assets/js/a11y.js" in moved
    assert Template("{% load chrome %}{% site_assets %}").render(Context({})) == moved
    settings.STATIC_URL = "/static/"
    page = Client().get("/accounts/login/").content.decode()
    assert want in page
