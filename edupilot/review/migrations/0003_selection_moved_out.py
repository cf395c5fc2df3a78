"""The selection models move to the selection app (selection 0001): removed from review's
state only; their tables (``review_<model>``) stay and belong to selection from now on."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("review", "0002_selection"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            # Referencing models first, so that no model in the state points at a deleted one.
            state_operations=[
                migrations.DeleteModel(name="ExpertScore"),
                migrations.DeleteModel(name="ExpertAssignment"),
                migrations.DeleteModel(name="ExpertPoolMember"),
                migrations.DeleteModel(name="ExpertGroupOpinion"),
                migrations.DeleteModel(name="Objection"),
                migrations.DeleteModel(name="AnnouncementEntry"),
                migrations.DeleteModel(name="ApprovalDecision"),
                migrations.DeleteModel(name="Announcement"),
            ],
            database_operations=[],
        ),
    ]
