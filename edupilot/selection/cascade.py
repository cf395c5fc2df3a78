"""A round's final list becomes its issuer's recommendations in the parent programme.

``parent = "<code>"`` in a programme file (``programmes/cascade.py``) makes it a round of
the parent: when its final list is published (``final_list_published``, inside the same
transaction), each listed unit is put into the parent programme as an application the
round's issuer (the city) has recommended — its form data, topic, members and attachments
as confirmed, its chain the parent's from the city's step on:

- the recommendation is the ordinary one (``review.services.review_recommend`` in the
  city's name): the city's quota at the parent is locked and counted, the parent's
  submission rules are checked again and the parent's city-level deadline holds. A list
  that does not fit refuses the whole publication, saying why; nothing is half-sent;
- the application then waits at the parent's next step (the province's queue), like any
  other the city recommended; units that were not confirmed are not sent;
- a unit that already has an application in the same category of the parent (it applied
  to the province directly) is refused by name.
"""

from __future__ import annotations

import datetime as dt

from django.dispatch import receiver
from django.utils.translation import gettext as _

from edupilot.applications.models import Application, ApplicationVersion, Attachment
from edupilot.applications.workflows import APPLICATION
from edupilot.audit.services import Actor, audit_record
from edupilot.orgs.models import Org, Role
from edupilot.orgs.scoping import Scope
from edupilot.programmes.chain import review_chain
from edupilot.programmes.models import Programme
from edupilot.review import services as review

from .errors import SelectionError
from .signals import final_list_published


def _issuer_scope(org: Org, actor: Actor) -> Scope:
    """The round's issuer acting at the parent as its programme admin: the publication of
    its final list is its act (a person's, or the system's when the 公示 period ends), so no
    membership of the person is needed (0 stands for "the issuer's own act")."""
    return Scope.acting_as(org, Role.PROGRAMME_ADMIN, user_id=getattr(actor.user, "pk", None) or 0)


def _parent_application(parent: Programme, child_app: Application, issuer: Org, actor, now):
    """The confirmed unit's application in ``parent``, waiting at ``issuer``'s step."""
    name = child_app.applicant_org.name
    category = parent.parsed.category(child_app.category)
    steps = review_chain(category, child_app.applicant_org, issuer=parent.issuer)
    k = next((s.index for s in steps if s.org.pk == issuer.pk), None)
    if k is None or k == len(steps) - 1:
        raise SelectionError(
            _("“%(unit)s”在上级项目 %(parent)s 中不经%(issuer)s审核推荐，不能报送。")
            % {"unit": name, "parent": parent.title, "issuer": issuer.name}
        )
    if Application.objects.filter(
        programme=parent, category=child_app.category, applicant_org=child_app.applicant_org
    ).exists():
        raise SelectionError(
            _("“%(unit)s”已在上级项目 %(parent)s 中有本类别的申报，不能再由%(issuer)s报送。")
            % {"unit": name, "parent": parent.title, "issuer": issuer.name}
        )
    chain = [s.as_json() for s in steps[k:]]
    version = child_app.versions.order_by("-number").first()
    app = Application.objects.create(
        programme=parent,
        category=child_app.category,
        topic=child_app.topic,
        applicant_org=child_app.applicant_org,
        applicant_path=child_app.applicant_org.path,
        title=child_app.title,
        data=child_app.data,
        version=1,
        chain=chain,
        current_step=0,
        current_org=issuer,
        submitted_at=now,
        created_by=actor.user if getattr(actor.user, "pk", None) else None,
        state=APPLICATION.initial("from_round"),
        from_round=child_app,
    )
    for a in Attachment.objects.filter(application=child_app, is_current=True):
        Attachment.objects.create(
            application=app,
            field_key=a.field_key,
            blob_id=a.blob_id,
            filename=a.filename,
            scan_check=a.scan_check,
        )
    for m in child_app.members.all():
        app.members.create(org_id=m.org_id)
    ApplicationVersion.objects.create(
        application=app,
        number=1,
        topic=app.topic,
        title=app.title,
        data=app.data,
        members=version.members if version else [],
        attachments=version.attachments if version else [],
        submitted_at=now,
        submitted_by=actor.user if getattr(actor.user, "pk", None) else None,
    )
    audit_record(
        actor=actor,
        action="application.from_round",
        obj=app,
        before=None,
        after={"state": app.state, "round": child_app.programme.code, "from": child_app.pk},
    )
    return app


def cascade_recommend(
    *, programme: Programme, applications: list[Application], actor: Actor, now: dt.datetime
) -> list[Application]:
    """Send ``programme``'s confirmed ``applications`` (a round's final list) to its parent
    as its issuer's recommendations, in list order; all or none (the caller's transaction)."""
    code = programme.parsed.parent
    if not code or not applications:
        return []
    parent = Programme.objects.select_related("issuer").filter(code=code).first()
    if parent is None:
        raise SelectionError(_("上级项目 %(code)s 不存在，确认名单无法报送。") % {"code": code})
    issuer = programme.issuer
    scope = _issuer_scope(issuer, actor)
    sent = []
    for child_app in applications:
        app = _parent_application(parent, child_app, issuer, actor, now)
        try:
            review.review_recommend(
                application=app,
                scope=scope,
                actor=actor,
                opinion=f"经{programme.title}评选确认，推荐报送。",
                now=now,
            )
        except review.ReviewError as exc:
            raise SelectionError(
                _("确认名单报送上级项目 %(parent)s 未成功（“%(unit)s”）：%(why)s")
                % {
                    "parent": parent.title,
                    "unit": child_app.applicant_org.name,
                    "why": exc.message,
                }
            ) from exc
        sent.append(app)
    return sent


@receiver(final_list_published, dispatch_uid="selection.cascade")
def on_final_list_published(sender, *, announcement, applications, actor, now, **kwargs):
    cascade_recommend(
        programme=announcement.programme, applications=applications, actor=actor, now=now
    )
