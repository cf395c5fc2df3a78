"""Issue 11 §6: the queue's area filter lists only divisions the bureaus administer."""

from django.urls import reverse

from tests.conftest import org

from .conftest import reviewer


def test_area_filter_leaves_out_divisions_nobody_administers(client, quanzhou):
    city = reviewer("泉州市")
    client.force_login(city.user)
    html = client.get(reverse("review:queue")).content.decode()
    assert "晋江市" in html and "泉州台商投资区" in html
    assert "金门县" not in html
    # A filter by an inactive division is not offered, so it is not applied either.
    r = client.get(reverse("review:queue"), {"area": org("金门县").pk})
    assert r.status_code == 200 and "金门县" not in r.content.decode()
