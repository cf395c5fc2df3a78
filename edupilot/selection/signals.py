"""Signals other apps listen to. Sent inside the transaction of the change they announce."""

import django.dispatch

# Sent by announcement_close once the listed applications became PILOT (a round's: FORWARDED):
# kwargs announcement, applications (those listed in the final list), actor, now.
final_list_published = django.dispatch.Signal()

# Sent by announcement_publish once the list is created: kwargs announcement, actor, now.
announcement_published = django.dispatch.Signal()
