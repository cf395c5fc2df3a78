import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from edupilot.audit.services import Actor
from edupilot.orgs.models import Locality, Role
from edupilot.orgs.scoping import Scope
from edupilot.programmes.models import Programme
from tests.conftest import make_school, make_user, org, pdf_bytes


@pytest.fixture
def henan(programmes):
    return Programme.objects.get(code="henan-tencent-2019")


class Who:
    """A user acting through one membership: the scope and actor services take."""

    def __init__(self, org_, role=Role.APPLICANT, username=None):
        self.org = org_
        self.user = make_user(org_, role, username=username)
        self.membership = self.user.memberships.get()
        self.scope = Scope.for_membership(self.membership)
        self.actor = Actor(user=self.user, org=org_)


@pytest.fixture
def school(henan):
    s = make_school(
        org("金水区"), name="郑州市金水区第一实验小学", stages=",primary,", locality=Locality.URBAN
    )
    return Who(s, username="jinshui1")


@pytest.fixture
def other_school(henan):
    s = make_school(org("金水区"), name="郑州市金水区第二实验小学", stages=",primary,")
    return Who(s, username="jinshui2")


def upload(name="申请表.pdf", content=None, content_type="application/pdf"):
    return SimpleUploadedFile(
        name, pdf_bytes() if content is None else content, content_type=content_type
    )


SCHOOL_FORM = {
    "f-school_name": "郑州市金水区第一实验小学",
    "f-address": "郑州市金水区花园路1号",
    "f-school_type": ["primary"],
    "f-locality": "urban",
    "f-student_count": "1200",
    "f-teacher_count": "80",
    "f-principal": "王校长",
    "f-contact_name": "李老师",
    "f-contact_mobile": "13800138000",
    "f-contact_email": "li@example.com",
    "f-bandwidth_mbps": "200",
    "f-wireless": "full",
    "f-existing_products": "",
    "f-guarantees": "学校建立了信息化领导小组，" * 20,
    "f-plan": "以智慧校园建设推动教学管理创新，" * 30,
}


@pytest.fixture
def submitted(school, henan):
    """A Henan school bid started, filled, attached and submitted through the services."""
    from .test_flow import attach, fill, start, submit

    app = start(school, henan)
    fill(school, app)
    attach(school, app)
    submit(school, app)
    return app
