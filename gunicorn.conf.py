"""Gunicorn settings for Flow Review: `gunicorn -c gunicorn.conf.py flowsite.wsgi`.

Every value can be set from the environment (see docs/deploy.md); command-line
flags still win over this file.
"""

import os

# Where to listen: BIND as given, else all interfaces on PORT (what container
# platforms set), else loopback only, for a reverse proxy on the same host.
if os.environ.get("BIND"):
    bind = os.environ["BIND"]
elif os.environ.get("PORT"):
    bind = f"0.0.0.0:{os.environ['PORT']}"
else:
    bind = "127.0.0.1:8000"

# Sync workers: each request holds one worker and at most one database
# connection, so workers x instances must stay under the database's (or the
# pooler's) connection limit.
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "sync"

# A request still running after `timeout` seconds is killed, downloads
# included: a sync worker reports to the arbiter only between requests, so
# streaming a file in chunks does not keep it alive. A file view response that
# takes longer than this to send (a large file to a slow client) is cut off.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))

# Recycle workers now and then, so a slow leak cannot grow without bound.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "2000"))
max_requests_jitter = max_requests // 10

# Logs to stdout/stderr for the platform to collect. The access line carries the
# request id the app echoes, so it joins the app's own JSON lines.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
access_log_format = '%(h)s "%(r)s" %(s)s %(B)s %(M)sms request_id=%({x-request-id}o)s'

# The heartbeat file lives in memory: a container's overlay filesystem can
# stall it and get healthy workers killed. It holds no data, only its mtime.
_SHARED_MEMORY = "/dev/shm"  # noqa: S108
if os.path.isdir(_SHARED_MEMORY):
    worker_tmp_dir = _SHARED_MEMORY

# Which peers may set X-Forwarded-* for gunicorn itself (Django has its own
# BEHIND_PROXY setting for the scheme and the client's address).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
