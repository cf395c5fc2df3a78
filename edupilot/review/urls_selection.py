"""Routes of the selection part of review (experts, approval); owned by the "selection" engineer."""

urlpatterns: list = []
