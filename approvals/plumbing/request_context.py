"""Who asked, and which request this is: the request id, the client's address and one log line per request.

The request id comes from the caller's X-Request-ID (a proxy's or a load
balancer's, so their logs and ours line up) when it looks like an id, or is
made here; it is echoed in the response's X-Request-ID. A logging filter puts
it, and the user, on every record logged while the request is being served.
"""

import ipaddress
import json
import logging
import re
import time
import uuid
from contextvars import ContextVar

from django.conf import settings
from django.http import HttpRequest, HttpResponse

REQUEST_ID_HEADER = "X-Request-ID"
# Anything else (spaces, quotes, newlines, kilobytes) is replaced, so a caller
# cannot forge log lines or fill them through the header.
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:+/=-]{1,128}")

_current_request: ContextVar[HttpRequest | None] = ContextVar("current_request", default=None)
request_logger = logging.getLogger("approvals.requests")


def client_ip(request: HttpRequest) -> str | None:
    """The client's address: REMOTE_ADDR, or behind PROXY_COUNT proxies the X-Forwarded-For entry they added.

    Each proxy appends the address it saw, so the entry PROXY_COUNT places from
    the right was written by our outermost proxy; entries left of it are the
    client's own claim and would let anyone pick a fresh address per try. Some
    proxies add the port (`203.0.113.9:51234`, `[2001:db8::1]:443`); an entry
    that is no address at all falls back to the peer's address.
    """
    hops = settings.PROXY_COUNT
    if hops:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= hops:
            address = ip_address_in(forwarded[-hops])
            if address:
                return address
    return request.META.get("REMOTE_ADDR") or None


def ip_address_in(entry: str) -> str | None:
    """The IP address in one X-Forwarded-For entry (bare, `ip:port` or `[v6]:port`), or None.

    The result is what PostgreSQL's inet column (django-axes stores it) accepts:
    no port, no IPv6 zone.
    """
    host, port = entry, "0"
    if entry.startswith("["):
        host, _, after = entry[1:].partition("]")
        port = after.removeprefix(":") or "0"
    elif entry.count(":") == 1:
        host, _, port = entry.partition(":")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    if not port.isascii() or not port.isdigit() or getattr(address, "scope_id", None):
        return None
    return str(address)


def request_id_for(request: HttpRequest) -> str:
    offered = request.headers.get(REQUEST_ID_HEADER, "")
    return offered if _REQUEST_ID.fullmatch(offered) else uuid.uuid4().hex


def _username(request: HttpRequest | None) -> str:
    """The user if authentication already loaded one; never a database query of its own.

    Logging must keep working while the database is down, so a user not yet
    looked up is reported as "-" rather than fetched.
    """
    if request is None:
        return "-"
    # Where django.contrib.auth.middleware.get_user caches the user it loaded: a
    # private name, pinned by test_private_api_pins.py.
    user = getattr(request, "__dict__", {}).get("_cached_user")
    if user is None:
        return "-"
    return user.get_username() if user.is_authenticated else "anonymous"


class RequestContextMiddleware:
    """Gives each request an id, echoes it, and logs one line when the response is ready."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.request_id = request_id_for(request)
        token = _current_request.set(request)
        started = time.monotonic()
        try:
            response = self.get_response(request)
            response[REQUEST_ID_HEADER] = request.request_id
            request_logger.info(
                "%s %s %s",
                request.method,
                request.path,
                response.status_code,
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round((time.monotonic() - started) * 1000, 1),
                    "client": client_ip(request),
                },
            )
            return response
        finally:
            _current_request.reset(token)


class RequestContextFilter(logging.Filter):
    """Adds request_id and user to every record (\"-\" outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        # Django logs a 4xx/5xx response after the middleware has returned, but
        # hands that record the request itself.
        request = _current_request.get() or getattr(record, "request", None)
        record.request_id = getattr(request, "request_id", "-")
        record.user = _username(request)
        return True


# Fields a LogRecord always has; anything else on a record came in through
# `extra`. Django's own records carry the request object: its id says enough.
_STANDARD_FIELDS = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "request"}
_CONTEXT_FIELDS = ("request_id", "user")


class LineFormatter(logging.Formatter):
    """One line per record: JSON (style_name="json") or key=value ("text").

    Tracebacks stay inside the line (JSON escapes the newlines), so a log
    collector never splits one event into many.
    """

    converter = time.gmtime

    def __init__(self, *, style_name: str = "json"):
        super().__init__()
        self.style_name = style_name

    def format(self, record: logging.LogRecord) -> str:
        fields = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", "-"),
            "user": getattr(record, "user", "-"),
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD_FIELDS and key not in _CONTEXT_FIELDS and not key.startswith("_"):
                fields[key] = value if isinstance(value, (int, float, bool, type(None))) else str(value)
        if record.exc_info:
            fields["exception"] = self.formatException(record.exc_info)
        if self.style_name == "json":
            return json.dumps(fields, ensure_ascii=False, default=str)
        return " ".join(f"{key}={_text_value(value)}" for key, value in fields.items())


def _text_value(value) -> str:
    text = str(value)
    if text and not any(char in text for char in ' "=\n\r\t'):
        return text
    return json.dumps(text, ensure_ascii=False)
