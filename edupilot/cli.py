"""The ``edupilot`` console command.

``edupilot SUBCOMMAND ...`` runs the Django management command of that name, so EduPilot's
own commands (serve, programme, quota, orgs, lists, audit, demo, ...) and Django's
(migrate, createsuperuser, ...) share one entry point.
"""

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "edupilot.settings")
    from django.core.management import execute_from_command_line

    args = list(sys.argv[1:] if argv is None else argv)
    execute_from_command_line(["edupilot", *args])


if __name__ == "__main__":
    main()
