"""Models of the selection part of review (experts, approval, announcements).

Owned by the "selection" engineer; re-exported from edupilot.review.models so that
Django's model discovery and migrations see them as part of the review app.
"""
