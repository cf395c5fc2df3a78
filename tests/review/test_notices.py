"""Who hears about each review decision (in-app rows; e-mail is the notifications module's)."""

from edupilot.core.models import Notification
from edupilot.orgs.models import Role
from edupilot.review import services

from .conftest import reviewer


def events_for(user):
    return list(Notification.objects.filter(recipient=user).values_list("event", "body"))


def test_each_decision_reaches_the_applicant_and_the_next_level(henan, henan_school_app):
    city, province = reviewer("郑州市"), reviewer("河南省", Role.PROGRAMME_ADMIN)
    other_city = reviewer("开封市")
    app, school = henan_school_app()
    assert [e for e, _ in events_for(city.user)] == ["review.submitted"]
    services.review_recommend(application=app, scope=city.scope, actor=city.actor, opinion="同意")
    assert [e for e, _ in events_for(province.user)] == ["review.recommended"]
    assert "review.recommended" in [e for e, _ in events_for(school.user)]
    services.review_return(
        application=app, scope=province.scope, actor=province.actor, reasons="请补充经费数额"
    )
    returned = [b for e, b in events_for(school.user) if e == "review.returned"]
    assert len(returned) == 1 and "请补充经费数额" in returned[0]
    # The city learns its place is free again; nobody outside the chain hears anything.
    assert "review.returned" in [e for e, _ in events_for(city.user)]
    assert events_for(other_city.user) == []
    # The actor is not notified of its own action.
    assert "review.returned" not in [e for e, _ in events_for(province.user)]
