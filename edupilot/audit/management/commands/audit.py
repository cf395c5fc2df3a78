from django.core.management.base import BaseCommand, CommandError

from edupilot.audit.services import audit_verify


class Command(BaseCommand):
    help = "Audit log tools. `audit verify` walks the hash chain and reports the first broken link."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["verify"])

    def handle(self, *args, action, **options):
        result = audit_verify()
        if result.ok:
            self.stdout.write(f"audit chain OK: {result.checked} events verified")
            return
        raise CommandError(
            f"audit chain broken at event id={result.broken_id} ({result.reason}); "
            f"{result.checked} events before it verified"
        )
