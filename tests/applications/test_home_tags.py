"""The applicant home's bids and open calls, written by one tag each (``{% home_bid_rows %}``,
``{% home_calls %}``): the same HTML as the template loops they replaced, in Chinese and in
English, for bids editable or not (with and without a version), and categories with a bid,
open to start (with a warning), refused with their reasons, with and without a description,
calls with and without a document number, and no open call at all."""

from __future__ import annotations

import re

import pytest
from django.template import Context, Template
from django.utils import translation

from edupilot.applications.models import Application, AppState
from edupilot.applications.selectors import CategoryChoice
from edupilot.programmes import rules
from edupilot.programmes.models import Programme
from tests.conftest import make_school, org

# The loops the tags replaced (applications/home.html before issue 12's sixth pass).
OLD_BIDS = """{% load i18n %}{% for a in applications %}
    <tr>
      <td>{{ a.programme.title }}</td>
      <td>{{ a.category_name }}</td>
      <td><span class="badge">{{ a.get_state_display }}</span>{% if a.version %} <span class="muted">{% blocktrans with n=a.version %}第 {{ n }} 版{% endblocktrans %}</span>{% endif %}</td>
      <td>{{ a.updated_at|date:"Y-m-d H:i" }}</td>
      <td>{% if a.is_editable %}<a href="{% url 'applications:edit' a.pk %}">{% trans "继续填写" %}</a>{% else %}<a href="{% url 'applications:detail' a.pk %}">{% trans "查看" %}</a>{% endif %}</td>
    </tr>
  {% endfor %}"""

OLD_CALLS = """{% load i18n %}{% regroup choices by programme as by_programme %}
{% for group in by_programme %}
<section class="card">
  <h3>{{ group.grouper.title }}</h3>
  <p class="muted">{{ group.grouper.issuers_text }}{% if group.grouper.doc_no %} · {{ group.grouper.doc_no }}{% endif %}</p>
  {% for choice in group.list %}
  <div class="category">
    <strong>{{ choice.category.name }}</strong>{% if choice.category.description %} <span class="muted">— {{ choice.category.description }}</span>{% endif %}
    <div class="muted">{% blocktrans with d=choice.closes_at|date:"Y-m-d H:i" %}申报截止：{{ d }}（北京时间）{% endblocktrans %}</div>
    {% if choice.application %}
      <p><span class="badge">{{ choice.application.get_state_display }}</span>
      {% if choice.application.is_editable %}<a href="{% url 'applications:edit' choice.application.pk %}">{% trans "继续填写" %}</a>{% else %}<a href="{% url 'applications:detail' choice.application.pk %}">{% trans "查看" %}</a>{% endif %}</p>
    {% elif choice.eligible %}
      {% for w in choice.warnings %}<p class="badge warn">{{ w.message }}</p>{% endfor %}
      <form method="post" action="{% url 'applications:start' %}">{% csrf_token %}
        <input type="hidden" name="programme" value="{{ choice.programme.code }}">
        <input type="hidden" name="category" value="{{ choice.category.code }}">
        <button type="submit">{% trans "开始申报" %}</button>
      </form>
    {% else %}
      <p class="muted">{% trans "本单位不能申报此类别：" %}</p>
      <ul class="errorlist">{% for f in choice.failures %}<li>{{ f.message }}</li>{% endfor %}</ul>
    {% endif %}
  </div>
  {% endfor %}
</section>
{% empty %}
<p class="muted">{% trans "目前没有面向本单位的、处于申报期内的项目。" %}</p>
{% endfor %}"""

NEW_BIDS = "{% load applicant_home %}{% home_bid_rows applications %}"
NEW_CALLS = "{% load applicant_home %}{% home_calls choices %}"


def _norm(html: str) -> str:
    """Runs of white space as one space: where the template had some, the tag writes some."""
    return re.sub(r"\s+", " ", html).strip()


def _both(old: str, new: str, **context) -> tuple[str, str]:
    context.setdefault("csrf_token", "t0ken<&>")
    return tuple(_norm(Template(t).render(Context(context))) for t in (old, new))


def bid(programme, state, version=0, category="school", name=None) -> Application:
    school = make_school(org("金水区"), name=name)
    a = Application.objects.create(
        programme=programme, category=category, applicant_org=school, state=state, version=version
    )
    return Application.objects.select_related("programme").get(pk=a.pk)


@pytest.fixture
def second_call(henan) -> Programme:
    copy = Programme.objects.get(pk=henan.pk)
    copy.pk = None
    copy.code = "henan-second-call"
    copy.title = "第二批 <智慧校园> 试点"
    copy.doc_no = "豫教电〔2019〕1号"
    copy.save()
    return copy


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_bid_rows_are_what_the_template_loop_wrote(henan, second_call, language):
    applications = [
        bid(henan, AppState.DRAFT),
        bid(second_call, AppState.SUBMITTED, version=2),
        bid(henan, AppState.RETURNED, version=1, category="region"),
        bid(
            henan, AppState.APPROVED, version=1, category="gone"
        ),  # a category no longer in the file
    ]
    with translation.override(language):
        old, new = _both(OLD_BIDS, NEW_BIDS, applications=applications)
    assert "/edit/" in new and "第二批 &lt;智慧校园&gt; 试点" in new
    assert new == old


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_calls_are_what_the_template_loop_wrote(henan, second_call, language):
    school, region = henan.parsed.category("school"), henan.parsed.category("region")
    bare = school.model_copy(update={"description": "", "name": "学校 & 教学点"})
    refused = [rules.RuleResult("kind", False, "本类别的申报单位为：<县级>。")]
    warned = [rules.RuleResult("w", False, "名额有限 & 请尽早申报", severity="warn")]
    choices = [
        CategoryChoice(henan, school, application=bid(henan, AppState.DRAFT)),
        CategoryChoice(henan, region, failures=refused),
        CategoryChoice(second_call, school, application=bid(second_call, AppState.SUBMITTED)),
        CategoryChoice(second_call, bare, warnings=warned),
        CategoryChoice(second_call, region),
    ]
    with translation.override(language):
        old, new = _both(OLD_CALLS, NEW_CALLS, choices=choices)
        assert new.count('<section class="card">') == 2 and "t0ken&lt;&amp;&gt;" in new
        assert new == old
        assert _both(OLD_CALLS, NEW_CALLS, choices=[]) == _both(OLD_CALLS, OLD_CALLS, choices=[])
        old, new = _both(OLD_CALLS, NEW_CALLS, choices=choices, csrf_token=None)
        assert "csrfmiddlewaretoken" not in new and new == old


# The section around the rows (applications/home.html before issue 12's seventh pass).
OLD_SECTION = """{% load i18n applicant_home %}<h2>{% trans "我的申报" %}</h2>
{% if applications %}
<div class="table-wrap"><table>
  <thead><tr><th>{% trans "项目" %}</th><th>{% trans "类别" %}</th><th>{% trans "状态" %}</th><th>{% trans "更新时间" %}</th><th></th></tr></thead>
  <tbody>
  {% home_bid_rows applications %}
  </tbody>
</table></div>
{% else %}
<p class="muted">{% trans "尚未发起任何申报。" %}</p>
{% endif %}"""
NEW_SECTION = "{% load applicant_home %}{% home_bids applications %}"


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_bids_section_is_the_templates_to_the_character(henan, second_call, language):
    applications = [bid(henan, AppState.DRAFT), bid(second_call, AppState.SUBMITTED, version=2)]
    with translation.override(language):
        for given in (applications, []):
            old, new = (
                Template(t).render(Context({"applications": given}))
                for t in (OLD_SECTION, NEW_SECTION)
            )
            assert new == old
    assert "<th>" in new or "muted" in new
