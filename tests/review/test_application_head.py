"""The application page's top card and record of submissions, written by one tag each
(``{% application_head %}``, ``{% version_list %}``, issue 12 §6): the same HTML as the
template they replaced (applications/detail.html), as the applicant and as a reviewer, for a
bid returned and submitted again, one forwarded to a parent programme or come from a round,
one with no category or reviewer, and a version submitted during a password handover."""

from __future__ import annotations

import types

from django.template import Context, Template
from django.test import RequestFactory

from edupilot.applications import services as app_services
from edupilot.applications.presenters import detail_context
from edupilot.applications.selectors import application_detail
from edupilot.core.links import url
from edupilot.review import selectors
from tests.html import collapse as _norm
from tests.review.test_review_tables import recommended_then_returned

from .conftest import reviewer, valid_post

# The parts of applications/detail.html the tags replaced (before issue 12's seventh pass).
OLD_HEAD = """{% load i18n %}<p class="muted">{% if request.scope.is_applicant %}<a href="{% url 'applications:home' %}">{% trans "我的申报" %}</a>{% else %}<a href="{% url 'applications:org_list' %}">{% trans "申报列表" %}</a>{% endif %} / {{ application.programme.title }}</p>
<h1>{{ application.applicant_org.name }} · {{ category.name }}</h1>
<div class="card">
  <dl class="kv">
    <dt>{% trans "项目" %}</dt><dd>{{ application.programme.title }}</dd>
    <dt>{% trans "状态" %}</dt><dd><span class="badge">{{ application.get_state_display }}</span>
      {% if application.current_org %} {% blocktrans with org=application.current_org.name %}当前在 {{ org }} 审核{% endblocktrans %}{% endif %}</dd>
    {% if forwarded_to %}<dt>{% trans "推荐去向" %}</dt><dd>{% blocktrans with parent=forwarded_to.programme.title %}本级评选确认后，已推荐至上级项目“{{ parent }}”，由上级继续审核。{% endblocktrans %} <a href="{% url 'applications:detail' forwarded_to.pk %}">{% trans "查看上级项目中的申报" %}</a>{% if forwarded_to.get_state_display %}（{{ forwarded_to.get_state_display }}）{% endif %}</dd>
    {% elif application.state == "forwarded" %}<dt>{% trans "推荐去向" %}</dt><dd>{% trans "本级评选确认后，已推荐至上级项目。" %}</dd>{% endif %}
    {% if from_round %}<dt>{% trans "来源" %}</dt><dd>{% blocktrans with round=from_round.programme.title %}经下级评选“{{ round }}”确认后推荐报送。{% endblocktrans %} <a href="{% url 'applications:detail' from_round.pk %}">{% trans "查看下级评选中的申报" %}</a></dd>{% endif %}
    {% if application.version %}<dt>{% trans "版本" %}</dt><dd>{% blocktrans with n=application.version d=application.submitted_at|date:"Y-m-d H:i" %}第 {{ n }} 版，提交于 {{ d }}{% endblocktrans %}</dd>{% endif %}
    {% if application.chain %}<dt>{% trans "审核流程" %}</dt><dd>{% for step in application.chain %}{% if forloop.counter0 == application.current_step and application.state == "submitted" %}<strong>{{ step.org_name }}{% trans "（" %}{{ step.name }}{% trans "）" %}</strong>{% else %}{{ step.org_name }}{% trans "（" %}{{ step.name }}{% trans "）" %}{% endif %}{% if not forloop.last %} → {% endif %}{% endfor %}</dd>{% endif %}
  </dl>
  <div class="actions">
    {% if can_edit %}<a class="button" href="{% url 'applications:edit' application.pk %}">{% trans "修改申报" %}</a>{% endif %}
    {% if can_withdraw %}<form method="post" action="{% url 'applications:withdraw' application.pk %}" class="inline">{% csrf_token %}<button type="submit" class="secondary">{% trans "撤回申报" %}</button></form>{% endif %}
    <a class="button secondary" href="{% url 'documents:application_form' application.pk %}">{% trans "打印申报表（PDF）" %}</a>
  </div>
</div>"""

OLD_VERSIONS = """{% load handover i18n %}{% if application.version_list %}
<section class="card">
  <h2>{% trans "提交记录" %}</h2>
  <table><thead><tr><th>{% trans "版本" %}</th><th>{% trans "提交时间" %}</th><th>{% trans "提交人" %}</th><th></th></tr></thead>
  <tbody>{% for v in application.version_list %}<tr><td>{% blocktrans with n=v.number %}第 {{ n }} 版{% endblocktrans %}</td><td>{{ v.submitted_at|date:"Y-m-d H:i" }}</td><td>{{ v.submitted_by.display_name|default:"—" }}{{ v.submitted_by|handover_mark:v.submitted_at }}</td>
    <td><a href="{% url 'applications:version' application.pk v.number %}">{% trans "查看" %}</a></td></tr>{% endfor %}</tbody></table>
</section>
{% endif %}"""

NEW = "{% load application_page %}{% application_head %}</div></div>{% version_list application %}"


def _both(ctx: dict) -> tuple[str, str]:
    old = Template(OLD_HEAD).render(Context(ctx))
    old += Template(OLD_VERSIONS).render(Context(ctx))
    return _norm(Template(NEW).render(Context(ctx))), _norm(old)


def _context(who, app_pk, **extra) -> dict:
    app = application_detail(who.scope, app_pk)
    request = RequestFactory().get("/")
    request.scope = who.scope
    return {**detail_context(app, who.scope), "request": request, "csrf_token": "t0k<en>", **extra}


def test_the_tags_write_what_the_template_wrote(henan, henan_school_app):
    app, school = henan_school_app()
    city, province = recommended_then_returned(app, "同意。", "请补充。")
    app.refresh_from_db()
    # The returned bid as its applicant sees it: edit and withdraw offered.
    ctx = _context(school, app.pk, can_withdraw=True)
    assert ctx["can_edit"]
    new, old = _both(ctx)
    assert "修改申报" in new and new == old, (new, old)
    app_services.application_save_draft(
        application=app, post=valid_post(henan, "school"), scope=school.scope, actor=school.actor
    )
    app_services.application_submit(application=app, scope=school.scope, actor=school.actor)
    # Submitted again: two versions, the chain with the level reviewing now in bold.
    ctx = _context(city, app.pk)
    assert len(ctx["application"].version_list) == 2
    new, old = _both(ctx)
    assert "<strong>" in new and "第 2 版" in new and "我的申报" not in new
    assert new == old

    # Names that need escaping, links between rounds, a version's handover mark.
    a = ctx["application"]
    a.applicant_org.name = "<学校> & 'x'"
    a.chain = [{**step, "org_name": f"<{step['org_name']}>"} for step in a.chain]
    a.programme.title = 'A "round"'
    user = a.version_list[0].submitted_by
    user.ever_handed_down = True
    user._handover_periods = [types.SimpleNamespace(covers=lambda when: True)]
    for extra in (
        {"forwarded_to": a, "from_round": a},
        {"forwarded_to": None, "from_round": None},
    ):
        new, old = _both({**ctx, **extra})
        assert "&lt;学校&gt;" in new and "（代设密码期间）" in new and new == old
    a.state = "forwarded"
    a.current_org = None
    new, old = _both({**ctx, "category": None})
    assert "推荐去向" in new and "当前在" not in new and new == old

    # Not yet submitted: no version, chain nor record of submissions.
    a.version, a.chain, a.submitted_at, a.version_list = 0, [], None, []
    new, old = _both(ctx)
    assert "提交记录" not in new and "审核流程" not in new and new == old


OLD_LINKS = """{% load i18n %}
{% if review.acting_step %}<a class="button" href="#act-h">{% trans "本级审核" %}</a>{% endif %}
{% if request.scope.is_reviewer %}<a class="button secondary" href="{% url 'review:queue' %}">{% trans "返回审核列表" %}</a>{% endif %}
<a class="button secondary" href="#chain-h">{% trans "审核流程与意见" %}</a>
"""


def test_the_pages_own_buttons_are_what_the_template_wrote(henan, henan_school_app):
    app, school = henan_school_app()
    new = Template("{% load review_detail %}{% review_links review %}")
    for who in (reviewer("郑州市"), reviewer("河南省"), school):
        request = RequestFactory().get("/")
        request.scope = who.scope
        ctx = {"review": selectors.review_detail(who.scope, app.pk), "request": request}
        html = _norm(new.render(Context(ctx)))
        assert html == _norm(Template(OLD_LINKS).render(Context(ctx)))
        assert ("本级审核" in html) == (who.org.name == "郑州市")
        assert ("返回审核列表" in html) == who.scope.is_reviewer


def test_url_is_reverse(henan, henan_school_app):
    """The tags' URLs, reversed once with placeholders, are what ``reverse`` gives, under a
    script prefix too."""
    from django.urls import reverse, set_script_prefix

    for prefix in ("/", "/edu/"):
        set_script_prefix(prefix)
        try:
            for name, keys in (
                ("applications:home", ()),
                ("review:recommend", (7,)),
                ("applications:version", (12, 3)),
                ("applications:attachment", (5, 987654321)),
            ):
                assert url(name, *keys) == reverse(name, args=keys)
        finally:
            set_script_prefix("/")
    assert url("applications:version", 987654322, 987654321).startswith("/applications/987654322/")
