"""Pages for data from other systems: imports into a batch, and data sources (mappings)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from edupilot.audit.services import actor_from

from .. import forms, importers, selectors, services
from ..models import ImportState
from .common import bureau_batch, form_submit, is_bureau

# --- imports -----------------------------------------------------------------------------------


@login_required
def import_list(request, pk):
    scope = request.scope
    batch = bureau_batch(request, pk)
    sources = selectors.sources_for(scope)
    form = forms.ImportForm(request.POST or None, request.FILES or None, sources=sources)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        started = form_submit(
            form,
            lambda: services.import_submit(
                batch=batch,
                source=form.cleaned_data["source"],
                content=upload.read(),
                filename=upload.name,
                as_of=form.cleaned_data["as_of"],
                scope=scope,
                actor=actor_from(request),
            ),
        )
        if started is not None:
            if not started.created:
                messages.info(
                    request, _("该文件（同一数据来源、同一对应关系）此前已导入，本次未作任何改动")
                )
            # The import's own page shows provenance and, once done, the row report.
            return redirect("certification:import_detail", started.run.pk)
    return render(
        request,
        "certification/import_list.html",
        {
            "batch": batch,
            "form": form,
            "runs": selectors.imports_for(scope, batch)[:100],
            "sources": sources,
            "import_action": selectors.import_action(scope, batch),
        },
    )


@login_required
def import_detail(request, pk):
    run = selectors.access_import(request.scope, pk)
    issues = Paginator(run.issues.all(), 100).get_page(request.GET.get("page"))
    return render(
        request,
        "certification/import_detail.html",
        {
            "run": run,
            "batch": run.batch,
            "issues": issues,
            "running": run.state == ImportState.RUNNING,
        },
    )


# --- data sources ---------------------------------------------------------------------------------


@login_required
def source_list(request):
    if not is_bureau(request):
        raise Http404
    return render(
        request, "certification/source_list.html", {"sources": selectors.sources_for(request.scope)}
    )


# The fields of the source form that are the data source's own (and the service's arguments).
SOURCE_FIELDS = ("code", "name", "system", "code_column", "name_column", "sheet", "header_row")


def _initial(source) -> dict:
    return {name: getattr(source, name) for name in SOURCE_FIELDS} if source else {}


def _posted_mapping(request, form, columns: list[str]) -> list[dict]:
    """The mapping as posted (one row per known column, plus a new one); ``columns`` grows by
    the sample file's headers and the posted columns."""
    d = form.cleaned_data
    sample = d.get("sample")
    if sample is not None:
        try:
            headers, _rows = importers.read_table(
                sample.read(), sample.name, sheet=d["sheet"], header_row=d["header_row"]
            )
            columns[:] = [h for h in headers if h]
        except importers.TableError as exc:
            form.add_error("sample", str(exc))
    posted_columns = request.POST.getlist("column")
    for extra in posted_columns:
        if extra and extra not in columns:
            columns.append(extra)
    mapping = []
    for i, column in enumerate(posted_columns):
        code = request.POST.get(f"indicator_{i}", "")
        if column and code:
            scale = request.POST.get(f"scale_{i}") or 1
            mapping.append({"column": column, "indicator": code, "scale": scale})
    new_col = request.POST.get("new_column", "").strip()
    new_ind = request.POST.get("new_indicator", "").strip()
    if new_col and new_ind:
        mapping.append({"column": new_col, "indicator": new_ind, "scale": 1})
        if new_col not in columns:
            columns.append(new_col)
    return mapping


def _mapping_rows(columns: list[str], current: dict[str, dict]) -> list[dict]:
    rows = []
    for column in columns:
        m = current.get(column, {})
        rows.append(
            {"column": column, "indicator": m.get("indicator", ""), "scale": m.get("scale", 1)}
        )
    for column, m in current.items():
        if column not in columns:
            rows.append({"column": column, "indicator": m["indicator"], "scale": m.get("scale", 1)})
    return rows


@login_required
def source_edit(request, pk=None):
    scope = request.scope
    if not is_bureau(request):
        raise Http404
    source = selectors.access_source(scope, pk) if pk else None
    owner = source.owner if source else scope.org
    form = forms.SourceForm(request.POST or None, request.FILES or None, initial=_initial(source))
    columns = list(source.known_columns) if source else []
    current = {m["column"]: m for m in (source.mapping if source else [])}
    if request.method == "POST" and form.is_valid():
        mapping = _posted_mapping(request, form, columns)
        fields = {name: form.cleaned_data[name] for name in SOURCE_FIELDS}
        saved = None
        if not form.errors:
            saved = form_submit(
                form,
                lambda: services.source_save(
                    owner=owner,
                    **fields,
                    mapping=mapping,
                    known_columns=columns,
                    scope=scope,
                    actor=actor_from(request),
                ),
            )
        if saved is not None:
            messages.success(
                request,
                _("已保存数据来源“%(source)s”（%(count)s 列已对应指标）")
                % {"source": saved.name, "count": len(saved.mapping)},
            )
            return redirect("certification:source_edit", saved.pk)
    return render(
        request,
        "certification/source_form.html",
        {
            "form": form,
            "source": source,
            "rows": _mapping_rows(columns, current),
            "indicators": selectors.indicator_choices(),
            "owner": owner,
        },
    )
