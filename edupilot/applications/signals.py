"""Signals other apps listen to. Sent inside the transaction of the change they announce."""

import django.dispatch

# Sent by application_submit right after the new version and the chain are written:
# kwargs application, version, actor.
application_submitted = django.dispatch.Signal()

# Sent by application_withdraw: kwargs application, actor.
application_withdrawn = django.dispatch.Signal()
