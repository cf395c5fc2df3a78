"""Listens to selection: a published final list makes its pilots, in the same transaction."""

from django.dispatch import receiver

from edupilot.selection.signals import final_list_published

from .creation import pilots_create


@receiver(final_list_published)
def on_final_list_published(sender, *, announcement, applications, actor, now, **kwargs):
    pilots_create(applications=applications, actor=actor, now=now)
