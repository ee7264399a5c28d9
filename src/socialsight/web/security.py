"""Who may use the dashboard: loopback by default, a token anywhere else.

- ``check_bind``: listening on an address that is not loopback without a token is
  refused before the server starts.
- The middleware: with a token set, every request needs it — ``Authorization:
  Bearer TOKEN``, or the ``socialsight_token`` cookie that ``/login`` sets — and
  pages without it are sent to ``/login``; JSON gets a 401.
- Requests whose ``Host`` header names another host are refused (DNS rebinding: a
  web page that resolves its own name to 127.0.0.1 must not reach the lake), and so
  are writes from another origin (a form on another site posting to loopback).
- ``POST /`` is the AWS API's (:mod:`socialsight.aws.protocol`): it is not asked for
  the token, since AWS SDKs sign requests instead (:mod:`socialsight.aws.sigv4`
  checks them); the host and origin checks apply to it as to every request.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from socialsight.errors import ConfigError
from socialsight.net import is_loopback

COOKIE = "socialsight_token"
MIN_TOKEN = 16
OPEN_PATHS = ("/login", "/static/")
NOT_PAGES = ("/api/", "/photos/", "/static-vendor/")  # answered 401, not sent to /login
API_PAGES = ("/api/docs",)  # ... but for these pages under /api/
AWS_ENDPOINT = ("POST", "/")  # the AWS API: signed with SigV4 instead of the token
# Pages run only the app's own scripts (post text can never become code), and are not
# framed by other sites. plotly.js sets inline styles, hence 'unsafe-inline' for styles.
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data: blob:; "
    "style-src 'self' 'unsafe-inline'; script-src 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def strong(secret: str) -> bool:
    """At least MIN_TOKEN characters that are not spaces."""
    return sum(not c.isspace() for c in secret) >= MIN_TOKEN


def check_bind(host: str, token: str | None) -> None:
    """Refuse to listen beyond loopback without a (long enough) token; empty is none."""
    if token and not strong(token):
        raise ConfigError(f"the dashboard's token must have at least {MIN_TOKEN} characters "
                          "that are not spaces (--token or SOCIALSIGHT_SERVE_TOKEN); leave it "
                          "empty for no token")
    if not is_loopback(host) and not token:
        raise ConfigError(
            f"listening on {host} lets other machines in: set a token first "
            "(--token, or SOCIALSIGHT_SERVE_TOKEN), or keep the default 127.0.0.1")


def check_aws_keys(key_id: str | None, secret: str | None) -> None:
    """The AWS API's key pair: both or neither (empty is none), an id fit for a SigV4
    scope, a long secret."""
    if bool(key_id) != bool(secret):
        raise ConfigError("set serve.aws_access_key_id and serve.aws_secret_access_key "
                          "together (SOCIALSIGHT_SERVE_AWS_ACCESS_KEY_ID and "
                          "SOCIALSIGHT_SERVE_AWS_SECRET_ACCESS_KEY), or neither")
    if key_id and (not key_id.isprintable() or "/" in key_id or " " in key_id):
        raise ConfigError("serve.aws_access_key_id may not hold spaces or '/'")
    if secret and not strong(secret):
        raise ConfigError(f"serve.aws_secret_access_key must have at least {MIN_TOKEN} "
                          "characters that are not spaces")


def is_aws_request(request: Request) -> bool:
    return (request.method, request.url.path) == AWS_ENDPOINT


def token_matches(request: Request, token: str) -> bool:
    offered = request.cookies.get(COOKIE, "")
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        offered = header[7:].strip()
    return hmac.compare_digest(offered.encode(), token.encode())


class Guard:
    """The middleware: host check, same-origin writes, and the token when there is one."""

    def __init__(self, host: str, token: str | None) -> None:
        self.token = token or None
        # Behind loopback only loopback names and addresses (the one it listens on among
        # them); beyond loopback any host (the token guards it).
        self.any_host = not is_loopback(host)

    async def __call__(self, request: Request,
                       call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        if not self.any_host and not _loopback_host_header(request):
            return JSONResponse({"error": "this dashboard answers on localhost only"}, 421)
        if request.method not in ("GET", "HEAD", "OPTIONS") and not same_origin(request):
            return JSONResponse({"error": "cross-origin writes are refused"}, 403)
        path = request.url.path
        if self.token and not path.startswith(OPEN_PATHS) and not is_aws_request(
                request) and not token_matches(request, self.token):
            if (path.startswith(NOT_PAGES) and path not in API_PAGES) or request.method != "GET":
                return JSONResponse({"error": "a token is required: send "
                                     "'Authorization: Bearer TOKEN'"}, 401)
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/login?next={_quote(target)}", 303)
        response = await call_next(request)
        if response.headers.get("content-type", "").startswith("text/html"):
            response.headers.update(PAGE_HEADERS)
        return response


def _loopback_host_header(request: Request) -> bool:
    """The Host header names loopback: ``localhost`` or an address (``127.0.0.2``,
    ``[::1]``); any other name may be a rebinding page's."""
    host = request.headers.get("host", "")
    name = host if host.endswith("]") else host.rsplit(":", 1)[0]
    return is_loopback(name)


OTHER_SITES = ("cross-site", "same-site")  # Sec-Fetch-Site values of another site's page


def same_origin(request: Request) -> bool:
    """False when the request carries an Origin that is not this site's."""
    origin = request.headers.get("origin")
    if origin is None:
        return True  # not a browser's cross-site request (browsers send Origin on POST)
    return urlsplit(origin).netloc == request.headers.get("host", "")


def from_this_site(request: Request) -> bool:
    """False when a browser says another site's page made the request (Origin or
    Sec-Fetch-Site): for GETs that do work, which the same-origin write check misses."""
    fetched_from = request.headers.get("sec-fetch-site", "").lower()
    return fetched_from not in OTHER_SITES and same_origin(request)


def _quote(value: str) -> str:
    from urllib.parse import quote

    return quote(value, safe="/")


def safe_next(value: str | None) -> str:
    """Where /login may send the browser back to: a path on this site, nothing else."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value
