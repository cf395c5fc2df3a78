"""Signals other apps listen to. Sent inside the transaction of the change they announce."""

import django.dispatch

# Sent by an org move after the subtree's paths are rewritten, for the apps above that keep a
# copy of an org's path (applications.Application.applicant_path): kwargs old_path, new_path.
subtree_moved = django.dispatch.Signal()
