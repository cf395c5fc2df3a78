"""Run the test OpenID provider: ``python -m tests.oidc_provider.serve CLIENT_ID SECRET
REDIRECT_URI USER:PASSWORD[:EMAIL] ...``.

Binds a free loopback port, sets up a fresh SQLite database (users, one client, an RSA
signing key), prints ``READY http://127.0.0.1:<port>`` and serves until killed.
"""

import os
import sys
import tempfile
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):  # noqa: A002
        pass


def _placeholder(environ, start_response):  # replaced once Django is set up
    start_response("503 Service Unavailable", [])
    return [b""]


def main(argv: list[str]) -> None:
    client_id, secret, redirect_uri, *users = argv
    server = make_server(
        "127.0.0.1", 0, _placeholder, server_class=_Server, handler_class=_QuietHandler
    )
    url = f"http://127.0.0.1:{server.server_port}"
    os.environ["OIDC_PROVIDER_URL"] = url
    os.environ.setdefault("OIDC_PROVIDER_DB", os.path.join(tempfile.mkdtemp(), "op.sqlite3"))
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.oidc_provider.settings"

    import django

    django.setup()
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.core.wsgi import get_wsgi_application
    from oidc_provider.models import Client, ResponseType

    call_command("migrate", verbosity=0)
    call_command("creatersakey", stdout=open(os.devnull, "w"))  # noqa: SIM115
    for spec in users:
        username, password, *email = spec.split(":")
        User.objects.create_user(username, email=(email or [""])[0], password=password)
    client = Client.objects.create(
        name="EduPilot",
        client_type="confidential",
        client_id=client_id,
        client_secret=secret,
        jwt_alg="RS256",
        require_consent=False,
        _redirect_uris=redirect_uri,
        _scope="openid profile email",
    )
    client.response_types.add(ResponseType.objects.get(value="code"))
    server.set_app(get_wsgi_application())
    print(f"READY {url}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main(sys.argv[1:])
