from django.core.management.base import BaseCommand, CommandError

from edupilot.audit.services import audit_verify


class Command(BaseCommand):
    help = (
        "Audit log tools. `audit verify` walks the hash chain, checks it against the signed "
        "checkpoints (a deleted tail or a recomputed chain shows there), reports the first "
        "problem, and signs a new checkpoint when the chain holds."
    )

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["verify"])

    def handle(self, *args, action, **options):
        result = audit_verify(checkpoint=True)
        if result.ok:
            self.stdout.write(
                f"audit chain OK: {result.checked} events verified against "
                f"{result.checkpoints} checkpoints; new checkpoint written"
            )
            return
        where = f" at event id={result.broken_id}" if result.broken_id else ""
        raise CommandError(
            f"audit chain broken{where}: {result.reason}; "
            f"{result.checked} events before it verified"
        )
