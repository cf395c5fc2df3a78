"""The queue's filter form, table header and rows, written by tags (``{% queue_filters %}``,
``{% queue_head %}``, ``{% queue_rows %}``, issue 12 §6): the same HTML as the template they
replaced, for both tabs, one programme and several, the county list with a county chosen, a
searched name to escape, topics, in Chinese and in English; rows late, with a title badge,
rankable or only selectable, a later version, a title of their own, the lower level's rank."""

from __future__ import annotations

import copy
import dataclasses

from django.template import Context, Template
from django.utils import translation

from edupilot.review import queue as reviewer_queue
from tests.conftest import org
from tests.html import collapse as _norm

from .conftest import reviewer

# The template the tags replaced (review/queue.html before this pass; the rows' loop before
# ``{% queue_rows %}``, with the title badge the tag has written since).
OLD_FILTERS = """{% load i18n ui %}<form method="get" class="filters card" role="search" aria-label="{% trans '筛选' %}">
  {% if q.programmes|length > 1 %}
  <div class="field"><label for="f-programme">{% trans "项目" %}</label>
    <select id="f-programme" name="programme"><option value="">{% trans "全部项目" %}</option>
      {% for p in q.programmes %}<option value="{{ p.pk }}"{% if p.pk == q.filters.programme %} selected{% endif %}>{{ p.parsed.short_title|default:p.title }}</option>{% endfor %}
    </select></div>
  {% elif q.programme %}<input type="hidden" name="programme" value="{{ q.programme.pk }}">{% endif %}
  <div class="field"><label for="f-state">{% trans "范围" %}</label>
    <select id="f-state" name="state">{% options q.states q.filters.state %}</select></div>
  {% if q.categories %}<div class="field"><label for="f-category">{% trans "类别" %}</label>
    <select id="f-category" name="category"><option value="">{% trans "全部" %}</option>{% options q.categories q.filters.category %}</select></div>{% endif %}
  {% if q.topics %}<div class="field"><label for="f-topic">{% trans "选题" %}</label>
    <select id="f-topic" name="topic"><option value="">{% trans "全部" %}</option>{% options q.topics q.filters.topic %}</select></div>{% endif %}
  {% if q.areas %}<div class="field"><label for="f-area">{% trans "县（市、区）" %}</label>
    <select id="f-area" name="area"><option value="">{% trans "全部" %}</option>{% options q.areas q.filters.area %}</select></div>{% endif %}
  <div class="field"><label for="f-stage">{% trans "学段" %}</label>
    <select id="f-stage" name="stage"><option value="">{% trans "全部" %}</option>{% options q.stages q.filters.stage %}</select></div>
  <div class="field"><label for="f-q">{% trans "单位名称" %}</label><input id="f-q" type="search" name="q" value="{{ q.filters.q }}" placeholder="{% trans '输入名称搜索' %}"></div>
  <div class="field"><label for="f-sort">{% trans "排序" %}</label>
    <select id="f-sort" name="sort">{% options q.sorts q.filters.sort %}</select></div>
  <button type="submit">{% trans "筛选" %}</button>
  <a href="{% url 'review:queue' %}" class="button secondary">{% trans "清除" %}</a>
</form>"""

OLD_HEAD = """{% load i18n %}<thead><tr>
    <th><span class="sr-only">{% trans "选择" %}</span></th>
    {% if pending %}<th>{% trans "推荐排序" %}</th>{% endif %}
    <th>{% trans "申报单位" %}</th><th>{% trans "所属" %}</th>{% if not q.programme %}<th>{% trans "项目" %}</th>{% endif %}<th>{% trans "类别" %}</th>{% if q.topics %}<th>{% trans "选题" %}</th>{% endif %}
    <th>{% trans "状态" %}</th><th>{% trans "下级推荐" %}</th>{% if passed %}<th class="num">{% trans "本级排序" %}</th>{% endif %}<th>{% trans "提交时间" %}</th><th>{% trans "本级截止" %}</th>
  </tr></thead>"""

OLD_ROWS = """{% for a in q.rows %}<tr>
    <td>{% if a.selectable %}<input type="checkbox" name="sel" value="{{ a.pk }}" aria-label="{{ a.name }}">{% endif %}</td>
    {% if pending %}<td>{% if a.rankable %}<input type="number" name="rank-{{ a.pk }}" min="1" step="1" style="width:4.5rem" aria-label="{{ rank_label }}">{% endif %}</td>{% endif %}
    <td><a href="{{ detail_base }}{{ a.pk }}/">{{ a.name }}</a>{% if a.badge %} <span class="badge ok">{{ a.badge }}</span>{% endif %}{% if a.title %}<div class="muted small">{{ a.title }}</div>{% endif %}</td>
    <td>{{ a.parent }}</td>
    {% if not q.programme %}<td>{{ a.programme }}</td>{% endif %}
    <td>{{ a.category }}</td>{% if q.topics %}<td>{{ a.topic }}</td>{% endif %}
    <td><span class="badge">{{ a.state_label }}</span>{% if a.level %}<div class="muted small">{{ a.level }}</div>{% endif %}{% if a.version %} <span class="badge warn">{{ a.version }}</span>{% endif %}</td>
    <td>{{ a.lower }}</td>
    {% if passed %}<td class="num">{{ a.my_rank }}</td>{% endif %}
    <td>{{ a.submitted }}</td>
    <td>{{ a.deadline }}{% if a.late %} <span class="badge err">{{ closed_label }}</span>{% endif %}</td>
  </tr>
  {% endfor %}"""

OLD_BULK = """{% load i18n %}
<fieldset>
  <legend>{% trans "批量操作（所选申报全部成功或全部不变）" %}</legend>
  {% if q.deciding %}<p class="help muted">{% trans "本级为审定层级：同意或不同意立项请在审定页面进行；此处可批量退回修改。" %}</p>
  {% else %}<p class="help muted">{% trans "批量推荐按“推荐排序”栏填写的顺序（未填的按勾选顺序）排在本级已有推荐之后。" %}</p>{% endif %}
  <div class="field"><label for="bulk-action">{% trans "操作" %}</label>
    <select id="bulk-action" name="action">
      {% if not q.deciding %}<option value="recommend">{% trans "推荐所选（在名额内）" %}</option>{% endif %}
      <option value="return">{% trans "退回修改" %}</option>
      {% if not q.deciding %}<option value="not_recommend">{% trans "不予推荐" %}</option>{% endif %}
    </select></div>
  <div class="field"><label for="bulk-text">{% trans "意见 / 理由" %}</label>
    <textarea id="bulk-text" name="text" rows="3" maxlength="2000" placeholder="{% trans '推荐时为推荐意见（默认“同意推荐。”）；退回或不予推荐时必须填写理由' as hint %}{{ hint|force_escape }}"></textarea></div>
  <button type="submit">{% trans "执行" %}</button>
</fieldset>
"""

NEW = "{% load review_queue %}{% queue_filters q %}{% queue_head q pending passed %}"
NEW_ROWS = "{% load review_queue %}{% queue_rows q pending passed detail_base %}"


def _views(henan_school_app):
    """Queue views of 郑州市 covering the filters' cases: pending with its county list and a
    county chosen, a searched name with markup in it, passed with a category; the same with
    a second programme in the list (the programme column and select)."""
    henan_school_app()
    henan_school_app(parent="二七区")
    city = reviewer("郑州市")
    views = []
    for params in (
        {},
        {"area": org("二七区").pk, "q": "a<b & \"c'"},
        {"state": "passed", "category": "school", "stage": "primary", "sort": "name"},
    ):
        filters = reviewer_queue.QueueFilters.from_params(params)
        views.append(reviewer_queue.review_queue(city.scope, filters))
    pending = views[0]
    other = copy.copy(pending.programme)
    other.pk, other.title = other.pk + 1000, "另一<项目>"
    both = [pending.programme, other]
    views.append(dataclasses.replace(pending, programme=None, programmes=both))
    views.append(dataclasses.replace(views[2], programme=None, programmes=both))
    topics = [("teach", "教学应用"), ("eval", "管理应用 / 综合素质评价")]  # Henan's file has none
    chosen = dataclasses.replace(pending.filters, topic="eval")
    views.append(dataclasses.replace(pending, topics=topics, filters=chosen))
    return views


def _context(view) -> Context:
    return Context(
        {
            "q": view,
            "pending": view.filters.state == reviewer_queue.PENDING,
            "passed": view.filters.state == reviewer_queue.PASSED,
            "detail_base": "/review/",
            "rank_label": translation.gettext("推荐排序"),
            "closed_label": translation.gettext("已截止"),
        }
    )


def test_the_filter_form_and_header_are_what_the_template_wrote(henan, henan_school_app):
    views = _views(henan_school_app)
    assert views[1].filters.area == org("二七区").pk and views[1].areas
    assert views[2].categories and views[3].programme is None and views[5].topics
    for language in ("zh-hans", "en"):
        with translation.override(language):
            for view in views:
                ctx = _context(view)
                new = Template(NEW).render(ctx)
                assert new == Template(OLD_FILTERS).render(ctx) + Template(OLD_HEAD).render(ctx)
                assert "a&lt;b &amp; &quot;c&#x27;" in new or view is not views[1]
        assert ("Filter" in new) == (language == "en")


def test_the_rows_are_what_the_template_loop_wrote(henan, henan_school_app):
    views = _views(henan_school_app)
    row = views[0].rows[0]
    kinds = [
        row,
        {**row, "selectable": False, "rankable": False, "late": True, "deadline": "06-30 17:00"},
        {**row, "rankable": False, "badge": "省级示范校 · 优先", "title": "<智慧>课堂"},
        {**row, "version": "第 2 版", "level": "", "lower": "金水区 第 1 名", "my_rank": 3},
        {**row, "name": 'A & "B"', "parent": "—", "topic": "管理应用 / 综合素质评价"},
    ]
    for language in ("zh-hans", "en"):
        with translation.override(language):
            for view in views:
                ctx = _context(dataclasses.replace(view, rows=kinds))
                new = _norm(Template(NEW_ROWS).render(ctx))
                assert new == _norm(Template(OLD_ROWS).render(ctx))
                assert new.count("<tr>") == len(kinds)


def test_the_bulk_actions_are_what_the_template_wrote(henan, henan_school_app):
    """``{% queue_bulk %}`` (written once per language): the template's fieldset, at a level
    that recommends and at the deciding level (returning only), in Chinese and in English."""
    view = _views(henan_school_app)[0]
    for language in ("zh-hans", "en", "zh-hans"):
        with translation.override(language):
            for deciding in (False, True):
                ctx = _context(dataclasses.replace(view, deciding=deciding))
                new = Template("{% load review_queue %}{% queue_bulk q %}").render(ctx)
                assert new == Template(OLD_BULK).render(ctx)
                assert ('value="recommend"' in new) != deciding
                # The placeholder stays one attribute in English too (its text has quotes).
                assert new.count('"') % 2 == 0 and '\\"' not in new
                assert (">Apply<" in new) == (language == "en")
