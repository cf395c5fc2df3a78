import pytest
from django.db import transaction


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """The URL matrix's two look-alike provinces (tests/builders.py), built once for the
    module in a transaction that is rolled back at its end."""
    from tests.builders import build_world
    from tests.conftest import seed_database

    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            from edupilot.orgs.models import Org

            if not Org.objects.filter(code="410000").exists():
                seed_database()
            yield build_world()
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
