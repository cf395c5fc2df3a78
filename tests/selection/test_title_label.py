"""Issue 11 §6: the selection page names what the application's title is."""

from django.urls import reverse

from edupilot.orgs.models import Role

from .test_experts_support import henan_school, load_henan, who


def test_a_schools_name_is_not_shown_as_the_project_name(client, programmes):
    henan = load_henan()
    app = henan_school(henan, name="郑州市金水区标题测试小学")
    client.force_login(who("410000", Role.PROGRAMME_ADMIN).user)
    html = client.get(reverse("selection:selection_application", args=[app.pk])).content.decode()
    assert "项目名称" not in html
    assert "郑州市金水区标题测试小学" in html
