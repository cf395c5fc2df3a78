"""Request-wide middleware: the client's address behind a proxy, Chinese by default, refusals,
input cleaning, size limits and caching headers."""

import contextlib
import ipaddress


class TrustedProxyMiddleware:
    """Behind a reverse proxy, take the client's address from ``X-Forwarded-For``.

    Only when the direct peer is one of ``EDUPILOT_TRUSTED_PROXIES`` (the proxies' own
    addresses): then the right-most address in the header that is not itself a trusted proxy
    becomes ``REMOTE_ADDR``, which the audit log and the login lockout record. A client that
    talks to the app directly cannot choose its address by sending the header. Must come first.
    """

    def __init__(self, get_response):
        from django.conf import settings

        self.get_response = get_response
        self.trusted = frozenset(settings.EDUPILOT_TRUSTED_PROXIES)

    def __call__(self, request):
        if self.trusted and request.META.get("REMOTE_ADDR") in self.trusted:
            hops = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
            for hop in reversed([h.strip() for h in hops if h.strip()]):
                if hop in self.trusted:
                    continue
                # A malformed hop: keep the proxy's address rather than guess.
                with contextlib.suppress(ValueError):
                    request.META["REMOTE_ADDR"] = str(ipaddress.ip_address(hop))
                break
        return self.get_response(request)


class ChineseByDefaultMiddleware:
    """Ignore the browser's Accept-Language: the UI is Simplified Chinese until the user picks
    English with the language switch (a cookie). Bureau and school PCs often run English
    systems; their users still expect the Chinese UI.

    Must come before django.middleware.locale.LocaleMiddleware.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        return self.get_response(request)


class RefusedMiddleware:
    """A refusal no view caught, mapped once for pages: ``Denied`` is a 403, any other
    ``Refused`` goes back to the page the user came from with the reason as a message
    (a GET shows it as a 400 page). Views that re-render a form catch it themselves."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        from django.contrib import messages
        from django.core.exceptions import PermissionDenied
        from django.http import HttpResponseBadRequest
        from django.shortcuts import redirect
        from django.utils.html import escape
        from django.utils.http import url_has_allowed_host_and_scheme

        from .errors import Denied, Refused

        if isinstance(exception, Denied):
            raise PermissionDenied(exception.message) from exception
        if not isinstance(exception, Refused):
            return None
        back = request.META.get("HTTP_REFERER", "")
        if request.method == "POST" and url_has_allowed_host_and_scheme(
            back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            messages.error(request, exception.message)
            return redirect(back)
        return HttpResponseBadRequest(escape(exception.message))


class InputCleaningMiddleware:
    """Control characters out of every request, before any view (see ``edupilot.core.inputs``).

    Pages: each GET and POST value (and name, and uploaded file name) loses them, so what the
    user sees is what is saved, on SQLite and PostgreSQL alike. The API (``/api/``) refuses a
    query parameter or a JSON value holding one with a 400 that names it. A path holding one
    names no page: 404.

    Comes after CsrfViewMiddleware (which reads the token from the raw POST).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from django.http import Http404

        from .inputs import clean_text, has_control_chars

        if has_control_chars(request.path):
            raise Http404
        if request.path.startswith("/api/"):
            refused = self._refused_api(request)
            if refused is not None:
                return refused
            return self.get_response(request)
        request.GET = self._cleaned(request.GET, clean_text)
        if request.method == "POST":
            request.POST = self._cleaned(request.POST, clean_text)
            for f in request.FILES.values():
                f.name = clean_text(f.name or "")
        return self.get_response(request)

    @staticmethod
    def _cleaned(query, clean):
        from .inputs import has_control_chars

        if not any(
            has_control_chars(k) or any(has_control_chars(v) for v in vs) for k, vs in query.lists()
        ):
            return query
        out = query.copy()
        out.clear()
        for k, vs in query.lists():
            out.setlist(clean(k), [clean(v) for v in vs])
        out._mutable = False
        return out

    @staticmethod
    def _refused_api(request):
        import json

        from django.http import JsonResponse

        from .inputs import CONTROL_MESSAGE, find_control_chars, has_control_chars

        errors: dict[str, list[str]] = {}
        for k, vs in request.GET.lists():
            if has_control_chars(k) or any(has_control_chars(v) for v in vs):
                errors[f"query.{k}"] = [str(CONTROL_MESSAGE)]
        if request.content_type == "application/json" and request.body:
            try:
                body = json.loads(request.body)
            except ValueError:
                body = None  # the API answers malformed JSON itself
            for loc in find_control_chars(body):
                errors[".".join(["body", *map(str, loc)])] = [str(CONTROL_MESSAGE)]
        if not errors:
            return None
        return JsonResponse({"message": str(CONTROL_MESSAGE), "errors": errors}, status=400)


class RequestTooLargeMiddleware:
    """Refuse a request whose declared body exceeds the largest allowed upload (413), before
    anything reads the body: no multi-gigabyte upload is spooled to disk only to be refused.

    The limit (``EDUPILOT_MAX_REQUEST_MB``) is the largest single file any form accepts plus
    room for the form's other fields. Must come first in MIDDLEWARE.
    """

    def __init__(self, get_response):
        from django.conf import settings

        self.get_response = get_response
        self.limit_mb = settings.EDUPILOT_MAX_REQUEST_MB

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > self.limit_mb * 1024 * 1024:
            from django.conf import settings
            from django.http import HttpResponse
            from django.utils import translation
            from django.utils.translation import gettext as _

            # Answered before LocaleMiddleware: in the site's language, never in whatever
            # language the thread's previous request left active.
            with translation.override(settings.LANGUAGE_CODE):
                message = _(
                    "上传的内容过大（%(size).1f MB），超过了 %(limit)s MB 的上限，未被接收。"
                ) % {
                    "size": length / 1024 / 1024,
                    "limit": self.limit_mb,
                }
            return HttpResponse(message, status=413, content_type="text/plain; charset=utf-8")
        return self.get_response(request)


class NoStoreWhenLoggedInMiddleware:
    """``Cache-Control: no-store`` on every response to a logged-in user: pages and files hold
    a school's or a bureau's data, which no shared or browser cache should keep (a shared
    office PC, the back button after logging out). Static files never reach this (WhiteNoise
    answers them first). Place after AuthenticationMiddleware.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            from django.utils.cache import add_never_cache_headers

            add_never_cache_headers(response)  # no-cache, no-store, must-revalidate, private
        return response
