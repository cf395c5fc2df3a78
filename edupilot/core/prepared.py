"""Querysets compiled to SQL once per process, run with each call's values.

Django compiles a queryset to SQL on every evaluation: for a query over four joined models
that is ~0.5–1 ms of CPU, more than the database takes to answer it, and a page reads a
dozen such queries whose shape never changes — only the key they look up does. ``prepared``
keeps the ORM's definition and pays the compilation once::

    @prepared
    def current_attachments(application_id: int) -> QuerySet[Attachment]:
        return Attachment.objects.filter(application_id=application_id, is_current=True)

    rows = list(current_attachments(app.pk))

The first call per database vendor (and per type of each value) builds and compiles the
queryset twice, with two sets of placeholder values, and records which of the SQL's
parameters are the call's values (those that differ) and which are the query's constants;
later calls return a queryset whose evaluation
(iterating, ``list()``, ``len()``) runs that SQL with the call's values in those places and
reads rows exactly as Django would (models, ``select_related``, ``values_list``). Anything
else done to the returned queryset (``filter``, ``count``, ``first``, ``get``…) clones it into
an ordinary queryset compiled as usual: correct, only not faster.

What a prepared function may do, checked when it is first compiled: its int and str
arguments are plain lookup values (``=``, ``<``, ``>=``…), each one reaching the SQL's
parameters unchanged. A value that becomes part of another parameter (``__startswith``,
``__contains``) or a list (``__in``) raises ``ImproperlyConfigured`` at the first call — a
programming error the tests meet, never a user. A bool or None argument may change the
query's shape (``direct=False`` compiles to ``NOT "direct"``): each such value has its own
compiled SQL. A call with a value of any other type (a model, a list, a lazy string) builds
and compiles the queryset the ordinary way. The function must build the same queryset shape
for the same bools and Nones: nothing but its arguments may vary.
"""

from __future__ import annotations

import functools
import inspect
import operator
import weakref
from collections.abc import Callable

from django.core.exceptions import EmptyResultSet, FullResultSet, ImproperlyConfigured
from django.db import connections
from django.db.models import QuerySet
from django.db.models.sql.query import Query

# Two sets of placeholder values: ints inside every integer field's range (Django turns a
# lookup with an out-of-range value into an empty result, without a parameter) and strings of
# private-use characters. A parameter that differs between the two compilations is a call's
# value; one that does not is a constant of the query.
_MARKS = {
    int: (lambda i: 30_001 + 7 * i, lambda i: 29_002 + 5 * i),
    str: (lambda i: f"\ue000a{i}\ue001", lambda i: f"\ue000b{i}\ue001"),
}


class _Compiled:
    """One queryset's SQL for one database vendor: the template compiler's row layout and,
    per parameter, the fixed value or the index of the call's value that goes there."""

    __slots__ = ("queryset", "sql", "slots", "layout", "converters")

    def __init__(self, queryset: QuerySet, sql: str, slots: list, layout: dict):
        self.queryset, self.sql, self.slots, self.layout = queryset, sql, slots, layout
        # Per connection (a thread's own): the row's converters, which Django otherwise
        # works out again on every evaluation (~4 µs a column).
        self.converters: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


class _PreparedQuery(Query):
    """A Query evaluated with precompiled SQL. It holds the placeholders' conditions, so any
    clone (``filter``, ``count``, ``first``…) is the ordinary Query built with the call's
    values."""

    _build: Callable[..., QuerySet]
    _compiled: _Compiled
    _values: tuple

    def clone(self):
        return self._build(*self._values).query.clone()

    def get_compiler(self, using=None, connection=None, elide_empty=True):
        compiler = super().get_compiler(using, connection, elide_empty)
        compiled, values = self._compiled, self._values
        params = tuple(values[s] if type(s) is int else s[0] for s in compiled.slots)
        sql = compiled.sql

        def as_sql(with_limits=True, with_col_aliases=False):
            return sql, params

        compiler.__dict__.update(compiled.layout)
        compiler.as_sql = as_sql
        compiler.get_converters = _converters(compiler, compiled)
        return compiler


def _converters(compiler, compiled: _Compiled) -> Callable:
    """``compiler.get_converters`` answering for the compiled query's own columns (what
    ``results_iter`` asks) from the connection's cache; for any others as Django does."""
    found = compiled.converters.get(compiler.connection)
    if found is None:
        columns = tuple(s[0] for s in compiler.select[0 : compiler.col_count])
        found = (columns, compiler.get_converters(columns))
        compiled.converters[compiler.connection] = found
    columns, converters = found
    ordinary = compiler.get_converters

    def get_converters(expressions):
        if len(expressions) == len(columns) and all(map(operator.is_, expressions, columns)):
            return converters
        return ordinary(expressions)

    return get_converters


def _marks(kinds: tuple, which: int) -> list:
    # A shape value (a bool, None) is itself, part of the cache's key.
    return [_MARKS[k][which](i) if k in _MARKS else k[0] for i, k in enumerate(kinds)]


def _sql(build, marks: list, name: str, alias: str):
    queryset = build(*marks)
    compiler = queryset.query.get_compiler(using=alias)
    try:
        sql, params = compiler.as_sql()
    except (EmptyResultSet, FullResultSet) as exc:
        raise ImproperlyConfigured(
            f"prepared {name}: the placeholders make the query empty or full ({exc!r});"
            " only plain lookup values can be prepared"
        ) from exc
    return queryset, compiler, sql, tuple(params)


def _compile(build: Callable[..., QuerySet], kinds: tuple, name: str, alias: str) -> _Compiled:
    a, b = _marks(kinds, 0), _marks(kinds, 1)
    queryset, compiler, sql, params = _sql(build, a, name, alias)
    _, _, sql_b, params_b = _sql(build, b, name, alias)
    if sql != sql_b or len(params) != len(params_b):
        raise ImproperlyConfigured(f"prepared {name}: the query's shape depends on a value")
    where = {(type(a[i]), a[i], b[i]): i for i, kind in enumerate(kinds) if kind in _MARKS}
    slots: list = []
    for pa, pb in zip(params, params_b, strict=True):
        if type(pa) is type(pb) and pa == pb:
            slots.append((pa,))  # a constant of the query, in a one-item tuple
            continue
        try:
            i = where.get((type(pa), pa, pb))
        except TypeError:  # an unhashable parameter (a list)
            i = None
        if i is None:
            raise ImproperlyConfigured(
                f"prepared {name}: an argument is transformed into a parameter ({pa!r});"
                " only plain lookup values can be prepared"
            )
        slots.append(i)
    missing = {i for i, kind in enumerate(kinds) if kind in _MARKS} - set(
        s for s in slots if type(s) is int
    )
    if missing:
        raise ImproperlyConfigured(
            f"prepared {name}: argument(s) {sorted(missing)} did not reach the SQL's"
            " parameters unchanged; only plain lookup values can be prepared"
        )
    layout = {
        key: getattr(compiler, key)
        for key in ("select", "klass_info", "annotation_col_map", "col_count", "has_extra_select")
    }
    return _Compiled(queryset, sql, slots, layout)


def prepared(build: Callable[..., QuerySet]) -> Callable[..., QuerySet]:
    """Decorate a function of int/str arguments returning a queryset (see the module)."""
    cache: dict[tuple, _Compiled] = {}
    name = f"{build.__module__}.{build.__qualname__}"
    signature = inspect.signature(build)

    @functools.wraps(build)
    def call(*args, **kwargs) -> QuerySet:
        # Callers pass positional values (binding a signature costs ~4 µs a call).
        values = signature.bind(*args, **kwargs).args if kwargs else args
        kinds = tuple(
            type(v) if type(v) in _MARKS else (v,) if v is None or type(v) is bool else None
            for v in values
        )
        if None in kinds:
            return build(*values)
        alias = "default"
        key = (connections[alias].vendor, alias, kinds)
        compiled = cache.get(key)
        if compiled is None:
            compiled = cache[key] = _compile(build, kinds, name, alias)
        queryset = compiled.queryset._chain()
        query = queryset.query
        query.__class__ = _PreparedQuery
        query._build, query._compiled, query._values = build, compiled, values
        return queryset

    call.cache = cache  # for tests
    return call
