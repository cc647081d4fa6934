"""The 500 handler, which answers a database outage with a 503 that says so.

A connection refused, dropped or timed out can surface anywhere: in a view, in
the session or authentication middleware, or while a 404 page looks up the
user. All of them end here, so this is the one place that tells an outage from
a bug. The pages are standalone (no base template, no user, no query): the
base template asks for the user, which needs the database that is down.
"""

import logging
import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.template import loader
from django.templatetags.static import static

logger = logging.getLogger(__name__)

# How long a client (or a proxy's health check) should wait before trying again.
RETRY_AFTER_SECONDS = 10


def is_database_unavailable(error: BaseException | None) -> bool:
    """OperationalError covers refused, dropped and timed-out connections and a server shutting down;
    InterfaceError, a connection already closed under us."""
    return isinstance(error, (OperationalError, InterfaceError))


def _stylesheet() -> str | None:
    # Without collectstatic's manifest, static() raises: an error page must not.
    try:
        return static("approvals/app.css")
    except ValueError:
        return None


def server_error(request: HttpRequest) -> HttpResponse:
    error = sys.exc_info()[1]
    context = {"stylesheet": _stylesheet(), "request_id": getattr(request, "request_id", "")}
    if is_database_unavailable(error):
        logger.warning("database unavailable: %s", type(error).__name__)
        body = loader.get_template("database_unavailable.html").render(context)
        response = HttpResponse(body, status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    return HttpResponse(loader.get_template("500.html").render(context), status=500)


class CondenseDatabaseOutage(logging.Filter):
    """Logs a database outage as one short line per request instead of a full traceback.

    During an outage every request fails the same way; the cause fits in the
    error's first line, and pages of identical tracebacks would bury it.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and is_database_unavailable(record.exc_info[1]):
            error = record.exc_info[1]
            record.error = f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
            record.exc_info = None
            record.exc_text = None
        return True
