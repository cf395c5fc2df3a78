from django.db import models


class TreePathField(models.CharField):
    """A materialized path such as ``41/4101/410105/4101050001/``.

    Subtree queries are range scans (``path >= p AND path < p'``) on a plain B-tree index.
    That only works when the column compares bytewise: SQLite does by default; on
    PostgreSQL we ask for the "C" collation so a locale collation cannot reorder '/'.
    """

    def db_parameters(self, connection):
        params = super().db_parameters(connection)
        if connection.vendor == "postgresql":
            params["collation"] = "C"
        return params
