"""What applications answers to the apps below: signal receivers and registered hooks,
connected in ApplicationsConfig.ready."""

from django.db.models import Value
from django.db.models.functions import Concat, Substr

from edupilot.orgs.models import subtree_q

from .models import Application, ApplicationVersion


def follow_org_move(sender, *, old_path: str, new_path: str, **kwargs) -> None:
    """An org moved: the applications of its subtree keep their copy of the applicant's path."""
    Application.objects.filter(subtree_q(old_path, "applicant_path")).update(
        applicant_path=Concat(Value(new_path), Substr("applicant_path", len(old_path) + 1))
    )


def submissions_of(programme) -> int:
    """The versions submitted for a programme: its file may no longer change once there are any."""
    return ApplicationVersion.objects.filter(application__programme=programme).count()
