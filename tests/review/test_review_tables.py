"""The application page's chain of levels, acting level's card and record of decisions,
written by one tag each (``{% review_chain %}``, ``{% review_actions %}``,
``{% review_history %}``, issue 12 §6): the same HTML as the template they replaced, for a
bid recommended, returned from above, resubmitted and recommended again, a joint step's
opinions, the unit's titles, a bid not yet submitted, and the acting level's quota (limited,
full, unlimited) and forms."""

from __future__ import annotations

import dataclasses

from django.template import Context, Template

from edupilot.review import selectors, services
from edupilot.review.models import JointOpinion, JointVerdict, ReviewAction
from edupilot.review.selectors import ReviewDetail
from tests.conftest import org
from tests.html import collapse as _norm

from .conftest import reviewer, set_quota, valid_post

# The loops the tags replaced (review/detail.html before issue 12's fifth pass).
OLD_CHAIN = """{% load handover i18n %}<section class="card" aria-labelledby="chain-h">
  <h2 id="chain-h">{% trans "审核流程与各级意见" %}</h2>
  {% if review.titles %}<p>{% trans "申报单位所获称号：" %}{% for t in review.titles %}<span class="badge ok">{{ t.name }}</span> <span class="muted small">{{ t.text }}</span>{% if not forloop.last %}{% trans "；" %}{% endif %}{% endfor %}</p>{% endif %}
  {% if review.steps %}
  <div class="table-wrap"><table>
    <thead><tr><th>{% trans "层级" %}</th><th>{% trans "审核单位" %}</th><th>{% trans "截止时间" %}</th><th>{% trans "结果" %}</th><th>{% trans "意见 / 理由" %}</th><th>{% trans "审核人" %}</th><th>{% trans "时间" %}</th></tr></thead>
    <tbody>{% for s in review.steps %}<tr>
      <td>{{ s.name }}</td>
      <td>{{ s.org_name }}</td>
      <td>{{ s.deadline|date:"Y-m-d H:i"|default:"—" }}</td>
      <td>{% if s.decision %}<span class="badge {% if s.status == 'done' %}ok{% elif s.status == 'stopped' %}err{% endif %}">{{ s.decision.get_action_display }}{% if s.decision.rank %} · {% blocktrans with r=s.decision.rank %}第 {{ r }} 名{% endblocktrans %}{% endif %}</span>{% if not s.decision.active and s.decision.action == "recommend" %} <span class="muted small">{{ s.decision.get_deactivated_reason_display }}</span>{% endif %}
        {% elif s.status == "current" %}<span class="badge warn">{% trans "审核中" %}</span>{% else %}<span class="muted">—</span>{% endif %}
        {% if s.opinions %}<ul class="small">{% for o in s.opinions %}<li>{{ o.org.name }}：{% if o.verdict %}{{ o.get_verdict_display }}{% if o.opinion %}（{{ o.opinion }}）{% endif %}{% else %}<span class="muted">{% trans "待发表意见" %}</span>{% endif %}</li>{% endfor %}</ul>{% endif %}</td>
      <td>{% if s.decision %}{% if s.decision.action == "recommend" %}{{ s.decision.opinion|linebreaksbr }}{% else %}{{ s.decision.reasons|linebreaksbr }}{% endif %}{% endif %}</td>
      <td>{{ s.decision.decided_by.display_name|default:"" }}{% if s.decision %}{{ s.decision.decided_by|handover_mark:s.decision.decided_at }}{% endif %}</td>
      <td>{{ s.decision.decided_at|date:"Y-m-d H:i"|default:"" }}</td>
    </tr>{% endfor %}</tbody>
  </table></div>
  {% else %}<p class="muted">{% trans "尚未提交。" %}</p>{% endif %}
</section>"""

OLD_ACTIONS = """{% load i18n %}<section class="card" aria-labelledby="act-h">
  <h2 id="act-h">{% blocktrans with level=review.acting_step.name %}本级审核：{{ level }}{% endblocktrans %}</h2>
  <p class="muted">{% blocktrans with d=review.acting_step.deadline|date:"Y-m-d H:i" %}本级审核截止时间：{{ d }}（北京时间），截止后不能再操作。{% endblocktrans %}</p>
  {% for qs in review.quota %}
    <p>{{ qs.name }}{% trans "：" %}{% if qs.unlimited %}{% trans "不限" %}{% blocktrans with u=qs.used %}，已推荐 {{ u }} 个{% endblocktrans %}{% else %}{% blocktrans with l=qs.limit u=qs.used r=qs.left %}共 {{ l }} 个，已用 {{ u }} 个，剩余 {{ r }} 个{% endblocktrans %}{% if qs.left == 0 %} <span class="badge err">{% trans "已满" %}</span>{% endif %}{% endif %}</p>
  {% endfor %}

  {% if review.can.recommend.0 %}
  <form method="post" action="{% url 'review:recommend' application.pk %}">{% csrf_token %}
    <fieldset><legend>{% trans "推荐" %}</legend>
      <div class="field"><label for="rec-rank">{% trans "推荐排序（本级推荐中的名次）" %}</label>
        <input id="rec-rank" type="number" name="rank" min="1" max="{{ review.next_rank }}" value="{{ review.next_rank }}" style="max-width:8rem">
        <div class="help">{% trans "填写已有的名次时，原名次及之后的推荐依次后移。" %}</div></div>
      <div class="field"><label for="rec-opinion">{{ review.acting_step.opinion_title }}</label>
        <textarea id="rec-opinion" name="opinion" rows="3" maxlength="2000" required>{% trans "同意推荐。" %}</textarea></div>
      <button type="submit">{% trans "推荐" %}</button>
    </fieldset>
  </form>
  {% endif %}
  {% if review.can.return.0 %}
  <form method="post" action="{% url 'review:return' application.pk %}">{% csrf_token %}
    <fieldset><legend>{% trans "退回修改" %}</legend>
      <div class="field"><label for="ret-reasons">{% trans "退回理由（申报单位将看到）" %}</label>
        <textarea id="ret-reasons" name="reasons" rows="3" maxlength="2000" required></textarea></div>
      <button type="submit" class="secondary">{% trans "退回修改" %}</button>
    </fieldset>
  </form>
  {% endif %}
  {% if review.can.not_recommend.0 %}
  <form method="post" action="{% url 'review:not_recommend' application.pk %}">{% csrf_token %}
    <fieldset><legend>{% trans "不予推荐" %}</legend>
      <div class="field"><label for="nr-reason">{% trans "理由" %}</label>
        <textarea id="nr-reason" name="reason" rows="3" maxlength="2000" required></textarea></div>
      <button type="submit" class="danger">{% trans "不予推荐" %}</button>
    </fieldset>
  </form>
  {% endif %}
</section>"""

OLD_HISTORY = """{% load handover i18n %}{% if review.decisions %}
<section class="card" aria-labelledby="hist-h">
  <h2 id="hist-h">{% trans "审核记录" %}</h2>
  <div class="table-wrap"><table>
    <thead><tr><th>{% trans "版本" %}</th><th>{% trans "审核单位" %}</th><th>{% trans "结果" %}</th><th>{% trans "意见 / 理由" %}</th><th>{% trans "审核人" %}</th><th>{% trans "时间" %}</th><th>{% trans "状态" %}</th></tr></thead>
    <tbody>{% for d in review.decisions %}<tr>
      <td>{% blocktrans with n=d.version %}第 {{ n }} 版{% endblocktrans %}</td>
      <td>{{ d.org.name }}</td>
      <td>{{ d.get_action_display }}{% if d.rank %} · {% blocktrans with r=d.rank %}第 {{ r }} 名{% endblocktrans %}{% endif %}</td>
      <td>{% if d.action == "recommend" %}{{ d.opinion|linebreaksbr }}{% else %}{{ d.reasons|linebreaksbr }}{% endif %}</td>
      <td>{{ d.decided_by.display_name|default:"—" }}{{ d.decided_by|handover_mark:d.decided_at }}</td>
      <td>{{ d.decided_at|date:"Y-m-d H:i" }}</td>
      <td>{% if d.active %}{% trans "有效" %}{% else %}<span class="muted">{{ d.get_deactivated_reason_display }}</span>{% endif %}</td>
    </tr>{% endfor %}</tbody>
  </table></div>
</section>
{% endif %}"""

NEW = "{% load review_detail %}{% review_chain review %}<hr>{% review_history review %}"


def _both(review: ReviewDetail) -> tuple[str, str]:
    ctx = Context({"review": review})
    old = Template(OLD_CHAIN).render(ctx) + "<hr>" + Template(OLD_HISTORY).render(ctx)
    return _norm(Template(NEW).render(ctx)), _norm(old)


def recommended_then_returned(app, opinion: str, reasons: str):
    """郑州市 recommends ``app`` first with ``opinion``; 河南省 returns it with ``reasons``."""
    city, province = reviewer("郑州市"), reviewer("河南省")
    services.review_recommend(
        application=app, scope=city.scope, actor=city.actor, opinion=opinion, rank=1
    )
    services.review_return(
        application=app, scope=province.scope, actor=province.actor, reasons=reasons
    )
    return city, province


def test_the_tags_write_what_the_template_loops_wrote(henan, henan_school_app):
    app, school = henan_school_app()
    city, province = recommended_then_returned(app, "同意<推荐>。\n第二行", "请补充 & 完善。")
    from edupilot.applications import services as app_services

    app.refresh_from_db()
    app_services.application_save_draft(
        application=app, post=valid_post(henan, "school"), scope=school.scope, actor=school.actor
    )
    app_services.application_submit(application=app, scope=school.scope, actor=school.actor)
    services.review_recommend(
        application=app, scope=city.scope, actor=city.actor, opinion="同意推荐。", rank=None
    )
    review = selectors.review_detail(province.scope, app.pk)
    assert {d.action for d in review.decisions} == {ReviewAction.RECOMMEND, ReviewAction.RETURN}
    assert any(not d.active for d in review.decisions)
    assert [s.status for s in review.steps] == ["done", "current"]
    # A joint step's opinions (one given, one awaited) and the unit's titles.
    review.steps[1].opinions = [
        JointOpinion(org=org("郑州市"), verdict=JointVerdict.AGREE, opinion="可<以>"),
        JointOpinion(org=org("河南省"), verdict=JointVerdict.PENDING),
    ]
    review.titles = [{"name": "省级示范校", "text": "优先 <推荐>"}, {"name": "B", "text": ""}]
    new, old = _both(review)
    assert "第 2 版" in new and "同意&lt;推荐&gt;。<br>第二行" in new and "可&lt;以&gt;" in new
    assert new == old


def test_a_stopped_chain_and_a_bid_not_yet_submitted(henan, henan_school_app):
    app, _school = henan_school_app()
    city = reviewer("郑州市")
    services.review_not_recommend(
        application=app, scope=city.scope, actor=city.actor, reason="不符合条件。"
    )
    review = selectors.review_detail(city.scope, app.pk)
    assert review.steps[0].status == "stopped"
    new, old = _both(review)
    assert "不符合条件。" in new and new == old

    empty = ReviewDetail(app, [], [])
    new, old = _both(empty)
    assert "尚未提交。" in new and new == old


def test_the_acting_levels_card_is_what_the_template_wrote(henan, henan_school_app):
    """The city's card on a bid waiting at it: its deadline, its quota bucket (as it is,
    full, unlimited), and the three forms with the CSRF field — then with only the return
    allowed."""
    app, _school = henan_school_app()
    set_quota(henan, "school", "郑州市", 3)
    city = reviewer("郑州市")
    review = selectors.review_detail(city.scope, app.pk)
    assert review.acting_step is not None and review.quota
    assert all(ok for ok, _why in review.can.values())
    (bucket,) = review.quota
    new = "{% load review_detail %}{% review_actions review application %}"
    for quota in (
        [bucket],
        [dataclasses.replace(bucket, limit=bucket.used)],
        [dataclasses.replace(bucket, limit=None), bucket],
        [],
    ):
        review.quota = quota
        ctx = Context({"review": review, "application": app, "csrf_token": "t0k<en>"})
        html = _norm(Template(new).render(ctx))
        assert html == _norm(Template(OLD_ACTIONS).render(ctx))
    assert html.count('name="csrfmiddlewaretoken" value="t0k&lt;en&gt;"') == 3
    review.can = {"recommend": (False, "x"), "return": (True, ""), "not_recommend": (False, "")}
    ctx = Context({"review": review, "application": app, "csrf_token": "t"})
    html = _norm(Template(new).render(ctx))
    assert html == _norm(Template(OLD_ACTIONS).render(ctx)) and html.count("<form") == 1
