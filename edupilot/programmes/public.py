"""The public side of programmes (no login): the calls (征集通知) and one call's notice.

Only what the notice itself publishes: title, issuing body, document number, dates, summary,
categories and topics. Never contacts (people's names and phones) or anything applicants sent.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _

from edupilot.core.public import PublicItem, clean_query

from .models import Programme, ProgrammeDocument, ProgrammeKind


def public_programmes(q: str = "") -> QuerySet[Programme]:
    """Active calls, newest first; ``q`` searches title, short title, document number and
    issuer (the org's name; the notice's own issuing body is in ``spec``, searched as text)."""
    qs = Programme.objects.filter(is_active=True, kind=ProgrammeKind.CALL).select_related("issuer")
    if q:
        qs = qs.filter(
            Q(title__icontains=q)
            | Q(doc_no__icontains=q)
            | Q(issuer__name__icontains=q)
            | Q(spec__short_title__icontains=q)
            | Q(spec__issuer_name__icontains=q)
        )
    return qs.order_by("-loaded_at", "-pk")


def issuer_label(programme: Programme) -> str:
    return programme.issuers_text


def call_state(programme: Programme, now=None) -> tuple[str, str]:
    """(label, badge class) of a call's period now."""
    now = now or timezone.now()
    if now < programme.opens_at:
        return _("未开始"), ""
    if now <= programme.closes_at:
        return _("申报中"), "ok"
    return _("已截止"), "warn"


def section_items(q: str, limit: int) -> list[PublicItem]:
    from django.urls import reverse

    now = timezone.now()
    out = []
    for p in public_programmes(q)[:limit]:
        label, kind = call_state(p, now)
        meta = issuer_label(p)
        if p.doc_no:
            meta += f" · {p.doc_no}"
        meta += " · " + _("申报时间 %(a)s 至 %(b)s") % {
            "a": timezone.localtime(p.opens_at).strftime("%Y-%m-%d"),
            "b": timezone.localtime(p.closes_at).strftime("%Y-%m-%d %H:%M"),
        }
        out.append(
            PublicItem(
                title=p.title,
                url=reverse("programmes_public:detail", args=[p.code]),
                meta=meta,
                when=p.opens_at,
                badge=label,
                badge_kind=kind,
            )
        )
    return out


def call_list(request):
    q = clean_query(request.GET.get("q"))
    return render(
        request,
        "public/calls.html",
        {"items": section_items(q, 200), "q": q},
    )


def _public_programme(code: str) -> Programme:
    try:
        return public_programmes().get(code=code)
    except Programme.DoesNotExist as exc:
        raise Http404 from exc


def notice_documents(programme: Programme) -> tuple[list[str], list[ProgrammeDocument]]:
    """The notice's full text as paragraphs, and its attachments (without their content)."""
    text = programme.documents.filter(role="text").values_list("content", flat=True).first() or b""
    paragraphs = [
        line.strip() for line in bytes(text).decode("utf-8-sig").splitlines() if line.strip()
    ]
    attachments = list(programme.documents.filter(role="attachment").defer("content"))
    return paragraphs, attachments


def call_file(request, code, role, position):
    """One of the notice's files as issued, downloaded (never shown inline)."""
    programme = _public_programme(code)
    doc = programme.documents.filter(role=role, position=position).first()
    if doc is None:
        raise Http404
    if request.headers.get("If-None-Match") == f'"{doc.sha256}"':
        return HttpResponse(status=304)
    response = HttpResponse(bytes(doc.content), content_type=doc.content_type)
    response["Content-Disposition"] = content_disposition_header(True, doc.filename)
    response["ETag"] = f'"{doc.sha256}"'
    response["Cache-Control"] = "public, max-age=3600"
    return response


def call_detail(request, code):
    programme = _public_programme(code)
    paragraphs, attachments = notice_documents(programme)
    spec = programme.parsed
    topics = {t.code: t for t in spec.topics}
    label, kind = call_state(programme)
    return render(
        request,
        "public/call_detail.html",
        {
            "programme": programme,
            "spec": spec,
            "issuer_label": issuer_label(programme),
            "state_label": label,
            "state_kind": kind,
            "notice_paragraphs": paragraphs,
            "attachments": attachments,
            "categories": [
                {
                    "name": c.name,
                    "description": c.description,
                    "closes_at": programme.category_closes_at(c.code),
                    "topics": [topics[t].name for t in c.topics if t in topics],
                }
                for c in spec.categories
            ],
        },
    )
