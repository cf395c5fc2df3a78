"""The application page's sections, written by one tag (``{% read_sections %}``) from
markup cached per programme version (issue 12 §6): the same HTML as the template loop it
replaced, and a programme loaded again with other labels shows them at once."""

from __future__ import annotations

import shutil

from django.conf import settings
from django.core.management import call_command
from django.template import Context, Template
from django.test import RequestFactory
from django.urls import reverse

from edupilot.applications import services as app_services
from edupilot.applications.presenters import detail_context
from edupilot.applications.templatetags import application_sections
from edupilot.programmes.models import Programme
from tests.conftest import org
from tests.html import collapse as _norm

from .conftest import school_in, submit_as

# The template loop the tag replaced (applications/detail.html before issue 12's third pass).
OLD_LOOP = """{% load i18n %}{% for section in sections %}
<section class="card">
  <h2>{{ section.spec.title }}</h2>
  <dl class="kv">
  {% for f in section.fields %}
    <dt>{{ f.spec.label }}</dt>
    <dd>
      {% if f.type == "attachment" %}{% for a in f.attachments %}<div>{% if a.blob.is_image %}<a href="{% url 'applications:attachment' application.pk a.pk %}"><img class="thumb" src="{% url 'applications:attachment_thumb' application.pk a.pk %}" alt="{{ a.filename }}" loading="lazy"></a>{% else %}📄{% endif %} <a href="{% url 'applications:attachment' application.pk a.pk %}">{{ a.filename }}</a> <span class="muted">{{ a.blob.size|filesizeformat }}</span>{% include "applications/_scan_check.html" %}</div>{% empty %}<span class="muted">{% trans "未上传" %}</span>{% endfor %}
      {% elif f.type == "members" %}{% blocktrans count n=f.members|length %}{{ n }} 所{% plural %}{{ n }} 所{% endblocktrans %}{% trans "：" %}{% for m in f.members %}{{ m.name }}{% if not forloop.last %}{% trans "、" %}{% endif %}{% endfor %}
      {% elif f.type == "group" %}<div class="table-wrap"><table><thead><tr>{% for sub in f.spec.fields %}<th>{{ sub.label }}</th>{% endfor %}</tr></thead><tbody>{% for row in f.rows %}<tr>{% for cell in row.cells %}<td>{{ cell.display }}</td>{% endfor %}</tr>{% endfor %}</tbody></table></div>
      {% elif f.type == "longtext" %}<div class="longtext">{{ f.display|linebreaks }}</div><span class="muted">{% blocktrans with n=f.chars %}{{ n }} 字{% endblocktrans %}</span>
      {% else %}{{ f.display|default:"—" }}{% endif %}
    </dd>
  {% endfor %}
  </dl>
</section>
{% endfor %}
"""


def test_the_tag_writes_what_the_template_loop_wrote(henan):
    """A submitted school bid (text, long text, choices, groups, attachments)."""
    a = submit_as(school_in(org("金水区")), henan, "school")
    a.current_attachments = list(a.attachments.filter(is_current=True).select_related("blob"))
    a.member_orgs = []
    ctx = detail_context(a, type("S", (), {"is_applicant": False})())
    assert any(f.attachments for s in ctx["sections"] for f in s["fields"])
    request = RequestFactory().get("/")
    old = Template(OLD_LOOP).render(Context({**ctx, "request": request}))
    new = Template("{% load application_sections %}{% read_sections sections application %}")
    assert _norm(new.render(Context(ctx))) == _norm(old)


def test_a_reloaded_programme_shows_its_new_labels(client, henan, tmp_path):
    """The sections' markup is cached by the programme file's sha256: loading the file
    again with a label changed (no bid submitted yet, so the load is allowed) shows the new
    label on the next request, in the same process."""
    who = school_in(org("金水区"))
    app = app_services.application_start(
        programme=henan, category_code="school", scope=who.scope, actor=who.actor
    )
    client.force_login(who.user)
    url = reverse("applications:detail", args=[app.pk])
    page = client.get(url).content.decode()
    assert "通讯地址" in page and "通讯地址（邮寄）" not in page
    keys_before = set(application_sections._SKELETONS)

    source = (settings.EDUPILOT_PROGRAMMES_DIR / henan.source_name).read_text(encoding="utf-8")
    assert source.count('label = "通讯地址"') == 1
    shutil.copytree(settings.EDUPILOT_PROGRAMMES_DIR / "notices", tmp_path / "notices")
    changed = tmp_path / henan.source_name
    changed.write_text(source.replace('label = "通讯地址"', 'label = "通讯地址（邮寄）"'), "utf-8")
    call_command("programme", "load", str(changed), "--open-now", verbosity=0)
    assert Programme.objects.get(pk=henan.pk).source_sha256 != henan.source_sha256

    page = client.get(url).content.decode()
    assert "通讯地址（邮寄）" in page
    assert set(application_sections._SKELETONS) - keys_before  # a new entry, new key
