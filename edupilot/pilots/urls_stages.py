"""Routes of inspections, acceptance, titles, awards."""

urlpatterns: list = []
