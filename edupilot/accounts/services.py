from django.db import transaction

from edupilot.audit.services import Actor, audit_record

from .models import User


def client_ip(request) -> str | None:
    # Behind a reverse proxy, configure it to set REMOTE_ADDR (see docs/deployment.md).
    return request.META.get("REMOTE_ADDR") or None


def actor_from(request) -> Actor:
    membership = getattr(request, "membership", None)
    return Actor(
        user=request.user if request.user.is_authenticated else None,
        org=membership.org if membership is not None else None,
        ip=client_ip(request),
    )


@transaction.atomic
def user_change_password(*, user: User, new_password: str, actor: Actor) -> User:
    user.set_password(new_password)
    was_forced = user.must_change_password
    user.must_change_password = False
    user.save(update_fields=["password", "must_change_password"])
    audit_record(
        actor=actor,
        action="user.password_change",
        obj=user,
        before={"must_change_password": was_forced},
        after={"must_change_password": False},
    )
    return user
