import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from .services import audit_checkpoint

logger = logging.getLogger(__name__)


@db_periodic_task(crontab(minute="*/15"))
def audit_checkpoint_task():
    # Anchor the chain every quarter of an hour: deleting or rewriting events older than the
    # newest checkpoint is then detected by `audit verify` (see audit/checkpoints.py).
    result = audit_checkpoint()
    if not result.ok:
        logger.error("audit chain check failed: %s", result.reason)
    return result.ok
