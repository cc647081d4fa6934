"""Small real files made at test time: what the pipeline would put in the bucket."""

import functools
import io
import math
import os
import shutil
import struct
import subprocess
import tempfile
import wave
from pathlib import Path

import pytest
from PIL import Image

from approvals.seeding.demo_files import media_kit_pdf


def png_bytes(size: tuple[int, int] = (64, 40), color: tuple[int, int, int] = (37, 99, 235)) -> bytes:
    image = Image.new("RGB", size, color)
    for x in range(size[0]):
        image.putpixel((x, size[1] // 2), (255, 255, 255))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def jpeg_bytes(size: tuple[int, int] = (800, 600)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 80, 40)).save(buffer, "JPEG", quality=70)
    return buffer.getvalue()


def wav_bytes(seconds: float = 0.5, rate: int = 8000) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as output:
        output.setnchannels(1)
        output.setsampwidth(2)
        output.setframerate(rate)
        frames = (int(12000 * math.sin(2 * math.pi * 440 * n / rate)) for n in range(int(seconds * rate)))
        output.writeframes(b"".join(struct.pack("<h", frame) for frame in frames))
    return buffer.getvalue()


def pdf_bytes(text: str = "Flow Review PDF") -> bytes:
    """A minimal valid one-page PDF: the demo's own hand-written one."""
    return media_kit_pdf([text])


CSV_TEXT = (
    "platform,headline,clicks\nlinkedin,Ship faster,120\nx,Your calendar handled,87\ninstagram,<b>Spring</b>,45\n"
)

SVG_WITH_SCRIPT = (
    '<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="40" height="40">'
    '<script>document.title="svg-script-ran"</script><circle cx="20" cy="20" r="18" fill="red"/></svg>\n'
)

HTML_WITH_SCRIPT = (
    "<!doctype html>\n<html><head><title>Landing</title></head><body><h1>Spring launch</h1>"
    '<script>document.title="html-script-ran"</script></body></html>\n'
)

MARKDOWN_TEXT = (
    "# Launch plan\n\nShip **three** posts.\n\n| day | channel |\n|---|---|\n| Mon | LinkedIn |\n\n"
    '<script>alert("md")</script>\n\n<img src="/logout/" onerror="alert(1)">\n\n'
    "[safe link](https://example.com) and [bad link](javascript:alert(1))\n\n"
    '<p><a href="javascript:alert(2)" onclick="alert(3)">raw link</a></p>\n'
)


def ffmpeg_or_fail() -> str:
    """ffmpeg makes the test video; CI (FLOW_REQUIRE_BROWSER=1) must have it, elsewhere its tests skip."""
    executable = shutil.which("ffmpeg")
    if executable is None:
        message = "ffmpeg is not installed (apt-get install ffmpeg): it makes the test video"
        if os.environ.get("FLOW_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return executable


@functools.cache
def _webm_video(executable: str) -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / "clip.webm"
        subprocess.run(
            [
                executable,
                "-hide_banner",
                "-loglevel",
                "error",
                "-f",
                "lavfi",
                "-i",
                "testsrc=size=96x64:rate=10",
                "-t",
                "2",
                "-c:v",
                "libvpx",
                "-b:v",
                "100k",
                "-y",
                str(target),
            ],
            check=True,
            timeout=60,
        )
        return target.read_bytes()


def webm_bytes() -> bytes:
    """A real two-second VP8 WebM, made by ffmpeg at test time."""
    return _webm_video(ffmpeg_or_fail())
