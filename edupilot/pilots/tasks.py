from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from .honours import honours_finalize


@db_periodic_task(crontab(minute="23"))
def honours_finalize_task():
    # Titles whose 公示 period is over become final without waiting for the issuer.
    return honours_finalize()
