"""The certification demo: a published first batch and an open second one."""

from __future__ import annotations

from django.utils import timezone

from edupilot.audit.services import Actor
from edupilot.certification import demo, services
from edupilot.certification.models import Batch, BatchState, EntryState, SelfAssessment
from edupilot.certification.selfgate import rules_for
from tests.conftest import make_school, make_user, org


def test_demo_builds_both_hangzhou_batches(programmes):
    for i in range(6):
        make_school(org("330106"), f"西湖区演示学校{i}", stages=",primary,")
        make_school(org("330100"), f"杭州市直属演示学校{i}", stages=",senior,")
    make_school(org("330106"), "西湖区演示幼儿园", stages=",kindergarten,")
    make_user(org("330100"), "programme_admin", "hangzhou_cert")
    make_user(org("330106"), "reviewer", "xihu_cert")
    demo.load_demo(actor=Actor.system())
    first = Batch.objects.get(code="hz-2024-1")
    assert first.state == BatchState.PUBLISHED and first.filings.get().org == org("330106")
    assert not first.entries.filter(state=EntryState.QUEUED).exists()
    assert first.entries.filter(state=EntryState.EXEMPT).count() == 3
    assert first.entries.count() == 12  # the kindergarten is not there
    second = Batch.objects.get(code="hz-2025-2")
    assert second.state == BatchState.OPEN and second.imports.get().state == "done"
    # Its programme batch asks for a self-assessment: some schools pass the 60% gate, one
    # does not, one has a draft, the rest submitted none (and are kept out for it).
    assert second.programme.code == "hangzhou-smart-campus-self-assessment-demo"
    gates = [e.gate_reason for e in second.entries.filter(state=EntryState.QUEUED)]
    submitted = SelfAssessment.objects.filter(entry__batch=second, submitted_at__isnull=False)
    assert submitted.count() >= 3
    assert sum(1 for g in gates if g.startswith("自评未达到申报条件")) == 1
    assert sum(1 for g in gates if g == "") == submitted.count() - 1
    assert any(g.startswith("未提交自评") for g in gates)
    assert SelfAssessment.objects.filter(entry__batch=second, submitted_at=None).count() == 1
    # The self-assessment window is open today and closes ahead (the variant file sets no
    # self_closes: it closes with the batch's cut-off, which the demo moves a month ahead), so
    # the school with a draft can still finish it and submitted ones can still be changed.
    rules = rules_for(second)
    today = timezone.localdate()
    assert rules.closes is None and rules.closes_on(second) == second.cutoff > today
    draft = SelfAssessment.objects.get(entry__batch=second, submitted_at=None).entry
    assert services.closed_reason(draft, rules, today) == ""
    # Loading again adds nothing.
    demo.load_demo(actor=Actor.system())
    assert Batch.objects.count() == 2
