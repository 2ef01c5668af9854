"""Real files of every supported format, and a local HTTP server for feeds and pages."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import docx

from tests.support.local_http import running


def make_pdf(text_lines: list[str]) -> bytes:
    """A small, valid one-page PDF whose text pypdf can extract."""
    stream_ops = ["BT", "/F1 12 Tf", "72 720 Td", "14 TL"]
    for line in text_lines:
        escaped = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        stream_ops.append(f"({escaped}) Tj T*")
    stream_ops.append("ET")
    content = "\n".join(stream_ops).encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length " + str(len(content)).encode() + b" >>\nstream\n" + content + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return bytes(out)


def make_docx(path: Path, title: str, sections: dict[str, str]) -> None:

    document = docx.Document()
    document.add_heading(title, level=1)
    for heading, body in sections.items():
        document.add_heading(heading, level=2)
        document.add_paragraph(body)
    document.save(str(path))


def write_manuals(folder: Path) -> None:
    """One file per supported format, each with a distinctive fact to search for."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "setup.md").write_text(
        "# Setting up the Zephyr kettle\n\nFill the kettle to the MAX line.\n\n"
        "## Descaling\n\nDescale every month with citric acid to keep the element clean.\n",
        encoding="utf-8",
    )
    (folder / "troubleshooting.html").write_text(
        "<html><head><title>Zephyr troubleshooting</title></head><body><article>"
        "<h1>Zephyr troubleshooting</h1><p>If the kettle beeps five times, the thermal fuse "
        "has tripped; let it cool for twenty minutes.</p>"
        "<h2>Lid does not close</h2><p>Remove limescale from the hinge with a soft brush.</p>"
        "</article></body></html>",
        encoding="utf-8",
    )
    (folder / "safety.pdf").write_bytes(
        make_pdf(["Zephyr safety sheet", "Never immerse the base in water or any liquid."])
    )
    make_docx(
        folder / "specs.docx",
        "Zephyr specifications",
        {"Capacity": "The Zephyr holds 1.7 litres of water.", "Power": "It draws 2200 watts."},
    )
    (folder / "warranty.txt").write_text(
        "The Zephyr kettle has a three year warranty covering the heating element.",
        encoding="utf-8",
    )


FEED = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Zephyr changelog</title><link>http://localhost/</link>
<description>Release notes</description>
<item><title>Zephyr app 2.0</title><link>{base}/notes/2.0</link><guid>zephyr-2.0</guid>
<pubDate>Tue, 14 Oct 2025 09:00:00 GMT</pubDate>
<description>&lt;p&gt;The app now shows the water temperature in Fahrenheit or Celsius.&lt;/p&gt;
</description></item>
<item><title>Zephyr app 1.9</title><link>{base}/notes/1.9</link><guid>zephyr-1.9</guid>
<pubDate>Mon, 01 Sep 2025 09:00:00 GMT</pubDate>
<description>&lt;p&gt;Keep-warm mode can now last up to two hours.&lt;/p&gt;</description></item>
</channel></rss>"""

PAGE = """<html><head><title>Zephyr status page</title>
<meta property="article:published_time" content="2025-11-02T10:00:00+00:00"></head>
<body><article><h1>Zephyr status page</h1><p>Cloud sync for kettle schedules is degraded in
the EU region; schedules still run locally.</p></article></body></html>"""


class LocalSite:
    """A tiny HTTP server whose pages tests can change or break while it runs."""

    def __init__(self) -> None:
        self.pages: dict[str, tuple[int, str, str]] = {}
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                status, content_type, body = site.pages.get(self.path, (404, "text/plain", "no"))
                data = body.encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"

    def serve(
        self, path: str, body: str, content_type: str = "text/html", status: int = 200
    ) -> str:
        self.pages[path] = (status, content_type, body)
        return f"{self.base}{path}"


@contextmanager
def local_site() -> Iterator[LocalSite]:
    site = LocalSite()
    with running(site.server):
        yield site
