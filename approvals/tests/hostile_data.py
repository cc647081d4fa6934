"""Pipeline rows carrying hostile text everywhere the pipeline may write, and a check that a page renders them inert.

Every payload, if it ever ran, would set `window.__xss`: the browser test
checks that flag; the server-side tests parse the HTML and look for the
payload anywhere it could run (a script, an event handler attribute, a
javascript: URL) and for its escaped text, which proves it was shown.
"""

import json
from dataclasses import dataclass
from html.parser import HTMLParser

from django.utils import timezone

from approvals.models import Approval, ApprovalStatus, ArtifactKind, Job, JobStatus
from approvals.tests.factories import make_artifact, make_job, make_project, make_run

MARK = "__xss"
SCRIPT = "<script>window.__xss=1</script>"
IMG = '"><img src=x onerror="window.__xss=2">'
SVG = "<svg/onload=window.__xss=3>"
JS_URL = "javascript:window.__xss=4"
BREAKOUT = "</textarea></title></script><script>window.__xss=5</script>"
TEMPLATE = "{{ request.user.password }}{% debug %}{{ 7|add:7 }}"
SQL = "'; drop table approvals; --"
ATTRIBUTE = "' autofocus onfocus='window.__xss=6"

PAYLOADS = (SCRIPT, IMG, SVG, JS_URL, BREAKOUT, TEMPLATE, SQL, ATTRIBUTE)
ALL = " ".join(PAYLOADS)
MEGABYTE_TEXT = ("A" * 1023 + "\n") * 1024  # 1 MiB of text

MARKDOWN = f"""# Launch {SCRIPT}

[click me]({JS_URL}) and <a href="{JS_URL}">this</a> and <img src=x onerror="window.__xss=7">

<iframe src="{JS_URL}"></iframe> <form action="{JS_URL}"><button>go</button></form>
"""
HTML_FILE = f"<!doctype html><title>x</title>{SCRIPT}<body onload='window.__xss=8'>{IMG}</body>".encode()
SVG_FILE = b'<svg xmlns="http://www.w3.org/2000/svg" onload="window.__xss=9"><script>window.__xss=10</script></svg>'


@dataclass
class HostileSite:
    pending: list[Approval]
    decided: list[Approval]
    files: dict[str, bytes]  # storage key -> bytes, for the bucket


def make_hostile_site() -> HostileSite:
    """A project, pending artifacts of every kind, earlier decisions and runs, all carrying the payloads."""
    project = make_project(name=f"P {SCRIPT}"[:200], description=ALL)
    metadata = {
        "platform": SCRIPT,
        "prompt": ALL,
        IMG: [JS_URL, {"nested": BREAKOUT}],
        "tags": [TEMPLATE, SQL, ATTRIBUTE],
        "link": JS_URL,
    }
    text = make_artifact(
        project=project, name=f"text {SCRIPT}", kind=ArtifactKind.TEXT, body_text=ALL, metadata=metadata
    )
    earlier = make_artifact(project=project, name=f"json {IMG}", kind=ArtifactKind.JSON, body_json={"v": 1})
    json_artifact = make_artifact(
        project=project,
        name=f"json {IMG}",
        kind=ArtifactKind.JSON,
        version=2,
        previous_version=earlier,
        body_json={SCRIPT: [IMG, {"url": JS_URL, TEMPLATE: SQL}], "n": 1, "svg": SVG, "breakout": BREAKOUT},
        metadata=metadata,
    )
    bare_string = make_artifact(project=project, name=f"bare {SVG}", kind=ArtifactKind.JSON, body_json=ALL)
    big_text = make_artifact(project=project, name="one megabyte", kind=ArtifactKind.TEXT, body_text=MEGABYTE_TEXT)
    big_json = make_artifact(
        project=project, name="one megabyte json", kind=ArtifactKind.JSON, body_json={"text": MEGABYTE_TEXT}
    )
    files, file_artifacts = _hostile_files(project, metadata)

    pending = []
    for artifact in (text, json_artifact, bare_string, big_text, big_json, *file_artifacts):
        job = make_job(output_artifact=artifact, kind=f"draft {SVG}"[:100])
        Job.objects.filter(pk=job.pk).update(params={"brief": ALL}, error=ALL)
        make_run(job=job, model=f"model {SCRIPT}"[:200])
        pending.append(Approval.objects.create(artifact=artifact))

    # Earlier decisions: notes and the decider's name are shown on later versions and in History.
    decided = []
    for artifact, status in ((earlier, ApprovalStatus.REJECTED), (text, ApprovalStatus.APPROVED)):
        job = make_job(output_artifact=artifact, status=JobStatus.FAILED, kind="draft_post")
        make_run(job=job, model=f"older {IMG}")
        decided.append(
            Approval.objects.create(
                artifact=artifact, status=status, notes=ALL, decided_by=f"eve {SCRIPT}", decided_at=timezone.now()
            )
        )
    return HostileSite(pending=pending, decided=decided, files=files)


def _hostile_files(project, metadata: dict) -> tuple[dict[str, bytes], list]:
    """Markdown, HTML and SVG files carrying payloads (their bytes, by storage key), and one missing from storage."""
    files = {
        f"proj/{SCRIPT}/notes.md": MARKDOWN.encode(),
        f"proj/{ATTRIBUTE}/page.html": HTML_FILE,
        "proj/x/logo.svg": SVG_FILE,
    }
    markdown = make_artifact(
        project=project,
        name=f"markdown {BREAKOUT}",
        kind=ArtifactKind.FILE,
        storage_path=f"proj/{SCRIPT}/notes.md",
        mime_type="text/markdown",
        metadata=metadata,
    )
    html_file = make_artifact(
        project=project,
        name=f"html {ATTRIBUTE}",
        kind=ArtifactKind.FILE,
        storage_path=f"proj/{ATTRIBUTE}/page.html",
        mime_type=f"text/html{IMG}",
    )
    svg_file = make_artifact(
        project=project, name="svg", kind=ArtifactKind.FILE, storage_path="proj/x/logo.svg", mime_type="image/svg+xml"
    )
    missing_file = make_artifact(
        project=project, name=f"missing {SVG}", kind=ArtifactKind.FILE, storage_path=f"gone/{IMG}/{SVG}.png"
    )
    return files, [markdown, html_file, svg_file, missing_file]


URL_ATTRIBUTES = {"href", "src", "action", "formaction", "data", "xlink:href"}


class _ActiveContent(HTMLParser):
    """Collects whatever in a page could run: scripts, on* attributes, javascript: URLs, and template output."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        if tag == "script":
            self._in_script = True
        for name, value in attrs:
            value = value or ""
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}={value!r}>")
            runs_as_url = name in URL_ATTRIBUTES and value.strip().lower().startswith("javascript:")
            if runs_as_url or (name == "srcdoc" and MARK in value):
                self.found.append(f"<{tag} {name}={value!r}>")
        if tag in {"iframe", "object", "embed"} and any(MARK in (value or "") for _, value in attrs):
            self.found.append(f"<{tag}> with the payload")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script and MARK in data:
            self.found.append(f"<script>{data[:80]}</script>")


def active_payloads(html: str) -> list[str]:
    """Places where a payload could run; empty for an inert page."""
    parser = _ActiveContent()
    parser.feed(html)
    parser.close()
    return parser.found


def shown_as_text(html: str, payload: str) -> bool:
    """The payload appears escaped (so it was rendered, as text), as either template engine escapes quotes."""
    escaped = payload.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    django_quotes = escaped.replace('"', "&quot;").replace("'", "&#x27;")
    jinja_quotes = escaped.replace('"', "&#34;").replace("'", "&#39;")  # markupsafe's
    return any(form in html for form in (escaped, django_quotes, jinja_quotes))


def json_dump(value) -> str:
    return json.dumps(value, ensure_ascii=False)
