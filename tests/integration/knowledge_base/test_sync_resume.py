"""A connector sync killed mid-way (SIGKILL: nothing runs on the way out) resumes where
it stopped: what it had written is not embedded again, and the rest is."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

from knowledge.sources import SourceSpec
from knowledge.stores import open_document_store
from knowledge.sync import FETCH_WINDOW, PERSIST_EVERY_BATCHES, KnowledgeSync
from supportbot.settings import Settings
from tests.support.service_fake import ConditionalPages, Reply, service_fake
from tests.support.stores import chunks_by_item

PAGES = 4 * FETCH_WINDOW
KILL_AT = 3 * FETCH_WINDOW - 8  # a page of the third window of fetches

# One chunk a page, one page a batch: the embedded store is saved every few pages.
SYNC_SCRIPT = """
import sys
from knowledge.sources import SourceSpec
from knowledge.stores import open_document_store
from knowledge.sync import KnowledgeSync
from supportbot.settings import Settings

settings = Settings(data_dir=sys.argv[1])
syncer = KnowledgeSync(settings, open_document_store(settings), batch_chunks=1)
syncer.sync([SourceSpec.model_validate_json(sys.argv[2])])
"""


def test_a_killed_sync_resumes_without_embedding_again(tmp_path: Path) -> None:
    with service_fake() as fake:
        site = ConditionalPages(fake)
        for number in range(PAGES):
            site.pages[f"/p/{number}"] = (
                f"<html><head><title>Page {number}</title></head><body><main>"
                f"<h1>Page {number}</h1><p>Setting number {number} of the hub.</p>"
                "</main></body></html>",
                f'"e{number}"',
            )
            fake.routes[f"/p/{number}"] = site.serve
        urls = "".join(f"<url><loc>{fake.url}/p/{n}</loc></url>" for n in range(PAGES))
        fake.routes["/sitemap.xml"] = lambda *_: Reply(
            200, f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'
        )
        source = SourceSpec(
            name="site", kind="manual", type="sitemap", url=f"{fake.url}/sitemap.xml"
        )
        child = subprocess.Popen(
            [sys.executable, "-c", SYNC_SCRIPT, str(tmp_path), source.model_dump_json()],
            env={**os.environ, "HF_HUB_OFFLINE": "1", "HAYSTACK_TELEMETRY_ENABLED": "False"},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        killed = threading.Event()

        def kill_on_request(path: str, headers: dict[str, str]) -> Reply:
            child.send_signal(signal.SIGKILL)
            killed.set()
            return site.serve(path, headers)

        fake.routes[f"/p/{KILL_AT}"] = kill_on_request
        _out, err = child.communicate(timeout=300)
        assert killed.is_set(), err.decode()[-2000:]
        assert child.returncode == -signal.SIGKILL

        settings = Settings(data_dir=tmp_path)
        saved = len(chunks_by_item(open_document_store(settings), "site"))
        # Two windows were written before the third's fetches began; the store was saved
        # every PERSIST_EVERY_BATCHES of them.
        assert 2 * FETCH_WINDOW - PERSIST_EVERY_BATCHES < saved < PAGES, "saved as it went"
        assert saved >= FETCH_WINDOW

        fake.routes[f"/p/{KILL_AT}"] = site.serve
        [report] = KnowledgeSync(settings, open_document_store(settings)).sync([source])
        assert (report.unchanged, report.added, report.failed) == (saved, PAGES - saved, 0)
        assert report.chunks_embedded == PAGES - saved, "only what the killed sync had not saved"
        assert len(chunks_by_item(open_document_store(settings), "site")) == PAGES
