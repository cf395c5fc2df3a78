from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from .credentials import credential_sheets_purge


@db_periodic_task(crontab(minute="*/5"))
def credential_sheets_purge_task():
    # Sheets expire after 30 minutes by default; erase their ciphertext soon after, even
    # when nobody opens a sheet again.
    return credential_sheets_purge()
