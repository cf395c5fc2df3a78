"""Routes of plans, reports and cases (what a pilot hands in), and of report completeness."""

urlpatterns: list = []
