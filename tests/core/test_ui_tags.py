from django.template import Context, Template
from django.utils import translation
from django.utils.translation import gettext_lazy


def render(choices, selected):
    tpl = Template("{% load ui %}<select>{% options choices selected %}</select>")
    return tpl.render(Context({"choices": choices, "selected": selected}))


def test_options_mark_the_selected_value_compared_as_text():
    html = render([(1, "中原区"), (2, "二七区")], "2")
    assert html == (
        '<select><option value="1">中原区</option>'
        '<option value="2" selected>二七区</option></select>'
    )
    assert "selected" not in render([(1, "中原区")], None)


def test_options_escape_values_and_labels_and_take_lazy_labels():
    choices = [('a"b', "<script>x</script>"), ("c", gettext_lazy("全部"))]
    with translation.override("zh-hans"):
        html = render(choices, None)
    assert '<option value="a&quot;b">&lt;script&gt;x&lt;/script&gt;</option>' in html
    assert "<script>" not in html
    assert ">全部</option>" in html
    with translation.override("en"):
        assert ">All</option>" in render(choices, None)
