"""PDF rendering: a Django template, rendered to HTML, laid out by WeasyPrint on A4.

Every PDF template extends ``documents/base.html`` (or ``documents/base_form.html`` for the
notices' paper forms), whose stylesheet names the Noto CJK fonts that Debian's
``fonts-noto-cjk`` installs; fontconfig finds them, so Chinese renders on a fresh machine
without bundling fonts. ``scripts/bootstrap.sh`` installs the package, and a system check
(see :func:`check_cjk_fonts`) warns when it is missing.

Resources are fetched only from ``data:`` URLs and the project's own static files: the
HTML may carry applicant-typed text, and a PDF renderer must not become a way to read
files or reach hosts on the server's network.

Fonts: every render uses the calling thread's one :class:`FontConfiguration` (see
:func:`font_configuration`). WeasyPrint makes a new one per document when none is given: a
fresh fontconfig scan and a new Pango font map, whose faces (the Noto CJK files are 20-30 MB
each) are mapped again and never all released, so a long-lived web worker grew by ~0.3 MB
of heap per render and its mapped font data swung by hundreds of MB (docs/benchmarks.md).
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import threading
from functools import lru_cache
from pathlib import Path
from urllib.parse import unquote, urlsplit

import weasyprint
from django.conf import settings
from django.core import checks
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils.http import content_disposition_header
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher

logger = logging.getLogger(__name__)

PDF_CONTENT_TYPE = "application/pdf"
CJK_FAMILIES = ("Noto Serif CJK SC", "Noto Sans CJK SC")


def _allowed_roots() -> list[Path]:
    roots = [Path(settings.BASE_DIR) / "static"]
    roots += [Path(d) for d in getattr(settings, "STATICFILES_DIRS", [])]
    if getattr(settings, "STATIC_ROOT", None):
        roots.append(Path(settings.STATIC_ROOT))
    return [r.resolve() for r in roots]


class LocalOnlyFetcher(URLFetcher):
    """Fetches ``data:`` URLs and files under the static directories; refuses the rest."""

    def __init__(self, **kwargs):
        super().__init__(allowed_protocols=("data", "file"), allow_redirects=False, **kwargs)
        self._roots = _allowed_roots()

    def fetch(self, url, headers=None):
        parts = urlsplit(url)
        if parts.scheme == "file":
            path = Path(unquote(parts.path)).resolve()
            if not any(path.is_relative_to(root) for root in self._roots):
                raise ValueError(f"PDF resource outside the static files refused: {url}")
        return super().fetch(url, headers)


def default_base_url() -> str:
    """Relative URLs in templates (``css/x.css``) resolve against the project's static dir."""
    return (Path(settings.BASE_DIR) / "static").resolve().as_uri() + "/"


# WeasyPrint's per-configuration caches are keyed by style (font, size, features), so they
# stay small for our templates; past this many entries they are emptied, whatever a document
# holds, so no input can make them grow without bound.
FONT_CACHE_MAX = 2048
_fonts = threading.local()
# Renders done by this process (tests and benchmarks read it to tell a render from a copy).
render_count = 0


def font_configuration() -> FontConfiguration:
    """This thread's font configuration, made once and reused by every render.

    One per thread, because Pango font maps are not safe to share between threads (gunicorn
    runs several per worker, the task queue too); one per process id, because a forked worker
    must not use the parent's fontconfig state.
    """
    config = getattr(_fonts, "config", None)
    if config is None or _fonts.pid != os.getpid():
        config = _fonts.config = FontConfiguration()
        _fonts.pid = os.getpid()
    elif len(config.strut_layouts) > FONT_CACHE_MAX or len(config.font_features) > FONT_CACHE_MAX:
        config.strut_layouts.clear()
        config.font_features.clear()
    return config


def html_to_pdf(html: str, *, base_url: str | None = None) -> bytes:
    global render_count
    document = weasyprint.HTML(
        string=html,
        base_url=base_url or default_base_url(),
        url_fetcher=LocalOnlyFetcher(),
    )
    content = document.write_pdf(font_config=font_configuration())
    render_count += 1
    return content


def render_pdf(template_name: str, context: dict, *, request=None) -> bytes:
    """Render ``template_name`` with ``context`` to an A4 PDF and return its bytes.

    The template should extend ``documents/base.html``; ``request`` is optional and only
    gives the template context processors (language, user).
    """
    html = render_to_string(template_name, context, request=request)
    return html_to_pdf(html)


def pdf_response(content: bytes, filename: str, *, inline: bool = False) -> HttpResponse:
    """An HTTP response for a rendered PDF; Chinese file names are encoded per RFC 6266."""
    response = HttpResponse(content, content_type=PDF_CONTENT_TYPE)
    response["Content-Disposition"] = content_disposition_header(not inline, filename)
    response["Content-Length"] = str(len(content))
    return response


@lru_cache(maxsize=1)
def installed_cjk_families() -> frozenset[str]:
    """Font families fontconfig knows that cover Chinese (empty if fc-list is unavailable)."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return frozenset()
    try:
        out = subprocess.run(
            [fc_list, ":lang=zh", "family"], capture_output=True, text=True, timeout=20
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return frozenset()
    families = set()
    for line in out.splitlines():
        families.update(f.strip() for f in line.split(",") if f.strip())
    return frozenset(families)


def check_cjk_fonts(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """System check: PDFs need the Noto CJK fonts, or Chinese text comes out as boxes."""
    families = installed_cjk_families()
    if not families and shutil.which("fc-list") is None:
        return [
            checks.Warning(
                "fc-list (fontconfig) is not installed; cannot confirm CJK fonts for PDFs.",
                hint="Run scripts/bootstrap.sh, or apt-get install fontconfig fonts-noto-cjk.",
                id="documents.W002",
            )
        ]
    if not any(f in families for f in CJK_FAMILIES):
        return [
            checks.Warning(
                "The Noto CJK fonts are not installed: Chinese text in PDFs will not render.",
                hint="Run scripts/bootstrap.sh, or apt-get install fonts-noto-cjk.",
                id="documents.W001",
            )
        ]
    return []
