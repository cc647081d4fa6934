"""The demo's files, made in Python at seed time (no ffmpeg, no network): one of each kind a reviewer meets.

Only the video is shipped (shipped/spring-teaser.webm, 72 KB): a seekable
video cannot be written without an encoder.
"""

import io
import math
import random
import struct
import wave
from pathlib import Path

from PIL import Image, ImageDraw

SHIPPED = Path(__file__).resolve().parent / "shipped"


def gradient_png(size: tuple[int, int], start: tuple, end: tuple, caption: str) -> bytes:
    width, height = size
    image = Image.new("RGB", size)
    draw = ImageDraw.Draw(image)
    for y in range(height):
        t = y / max(height - 1, 1)
        draw.line([(0, y), (width, y)], fill=tuple(round(a + (b - a) * t) for a, b in zip(start, end, strict=True)))
    draw.rectangle([width * 0.08, height * 0.4, width * 0.92, height * 0.6], outline="white", width=6)
    draw.text((width * 0.12, height * 0.47), caption, fill="white", font_size=max(24, width // 14))
    buffer = io.BytesIO()
    image.save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


def teaser_webm() -> bytes:
    return (SHIPPED / "spring-teaser.webm").read_bytes()


def jingle_wav(seconds: float = 2.0, rate: int = 8000) -> bytes:
    """A two-note jingle, 16-bit mono PCM: the stdlib writes it, every browser plays and seeks it."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as output:
        output.setnchannels(1)
        output.setsampwidth(2)
        output.setframerate(rate)
        frames = bytearray()
        for n in range(int(seconds * rate)):
            pitch = 523.25 if n < rate * seconds / 2 else 659.25
            fade = min(1.0, (seconds * rate - n) / (rate * 0.2))
            frames += struct.pack("<h", int(9000 * fade * math.sin(2 * math.pi * pitch * n / rate)))
        output.writeframes(bytes(frames))
    return buffer.getvalue()


def media_kit_pdf(lines: list[str]) -> bytes:
    """A one-page PDF written by hand (catalog, page, font, text stream, exact cross-reference table)."""
    text = " ".join(f"({line.replace(chr(92), '').replace('(', '[').replace(')', ']')}) Tj 0 -22 Td" for line in lines)
    stream = f"BT /F1 16 Tf 48 330 Td {text} ET".encode("latin-1", "replace")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 420 400] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    output = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(output))
        output += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(output)
    output += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    output += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    output += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(output)


CAMPAIGN_CSV = (
    "date,platform,post,impressions,clicks,ctr\n"
    "2026-11-02,linkedin,We're live,12840,412,3.2%\n"
    "2026-11-02,x,Big news tomorrow,20310,388,1.9%\n"
    "2026-11-03,instagram,Behind the scenes,9875,301,3.0%\n"
    "2026-11-04,threads,Spring teaser,4410,97,2.2%\n"
    '2026-11-05,facebook,"Launch event, Berlin",7730,255,3.3%\n'
)

LAUNCH_PLAN_MD = """# Spring launch plan

**Goal:** 500 trial sign-ups in the launch week.

## Channels
| day | channel | post |
|---|---|---|
| Mon | LinkedIn | Launch announcement |
| Tue | X | Thread: three lessons |
| Thu | Instagram | Carousel: plan, draft, ship |

## Open questions
- Do we boost the LinkedIn post?
- ~~Video on day one~~ moved to week two.

See the [brand guide](https://example.com/brand) for tone.
"""

LOGO_SVG = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<svg xmlns="http://www.w3.org/2000/svg" width="120" height="120" viewBox="0 0 32 32">\n'
    '  <rect width="32" height="32" rx="7" fill="#2256c7"/>\n'
    '  <path d="M9 16.5l4.5 4.5L23 11.5" fill="none" stroke="#fff" stroke-width="3.5" stroke-linecap="round"/>\n'
    "</svg>\n"
)

LANDING_HTML = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Flow: spring launch</title></head>
<body>
  <h1>Plan a month of posts in an afternoon</h1>
  <p>Flow drafts, you decide. Try it free for 30 days.</p>
  <a href="https://example.com/signup">Start free</a>
  <script>console.log("landing page analytics")</script>
</body>
</html>
"""


def brand_assets_bin(size: int = 4096) -> bytes:
    """Bytes no preview can read (a proprietary design file, say): shown as name, size, type and a download."""
    noise = random.Random(20261129).randbytes(size - 8)  # noqa: S311 - demo bytes, not a secret
    return b"FLWDSGN\x01" + noise


def long_transcript(min_characters: int) -> str:
    """A webinar transcript longer than the text preview shows, so the page offers the whole file."""
    lines = [
        "Host: Welcome everyone to the spring launch webinar.",
        "Guest: Thanks. Today we walk through how small teams plan content.",
        "Host: Let's start with the calendar: what goes in first?",
        "Guest: The customer's problem, always. Then the channel, then the format.",
    ]
    parts, total, minute = [], 0, 0
    while total < min_characters:
        for line in lines:
            stamp = f"[{minute // 60:02d}:{minute % 60:02d}] {line}\n"
            parts.append(stamp)
            total += len(stamp)
            minute += 1
    return "".join(parts)


def nested_brief(depth: int) -> dict:
    """A campaign brief nested `depth` levels deep (well inside what json.loads reads)."""
    node: dict = {"level": depth, "note": "the innermost detail"}
    for level in range(depth - 1, 0, -1):
        node = {"level": level, "section": f"part {level}", "detail": node}
    return node
