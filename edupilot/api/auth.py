"""How the API knows who calls: an API token (``Authorization: Bearer edp_…``, edupilot.tokens)
or the browser's session with its CSRF token. Either way ``request.scope`` is the scope of
one membership, built as accounts.middleware builds it for pages."""

from __future__ import annotations

from ninja.errors import AuthenticationError
from ninja.security import HttpBearer

from edupilot.orgs.scoping import Scope
from edupilot.tokens import services as tokens


class TokenAuth(HttpBearer):
    """An API token of one membership: acts in that membership's scope only."""

    openapi_bearerFormat = "edp_…"
    openapi_description = (
        "API token (接口令牌) made on the page /tokens/: acts as one membership, in its scope; "
        "read-only tokens may only GET. Send `Authorization: Bearer <token>`."
    )

    def authenticate(self, request, token: str):
        found = tokens.token_resolve(token.strip())
        if found is None:
            # A bearer was sent and is not good: 401, without falling back to the session.
            raise AuthenticationError
        membership = found.membership
        request.user = membership.user
        request.membership = membership
        request.memberships = [membership]
        request.scope = Scope.for_membership(membership)
        request.api_token = found
        tokens.token_use(found, request)  # audited; a write with a read-only token: 403
        return found
