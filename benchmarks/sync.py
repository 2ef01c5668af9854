"""Incremental sync at scale: 10,000 sections synced, re-synced unchanged, then 1% changed.

    .venv/bin/python benchmarks/sync.py [--eval-dir ../shared/eval/emanual] [--sections 10000]
    .venv/bin/python benchmarks/sync.py --case crawl [--sections 10000]
    .venv/bin/python benchmarks/sync.py --case crawl --store weaviate --pages 50000

Uses the e-manual corpus as realistic text and the project's own `KnowledgeSync` into
the embedded store. `files` (the default): one Markdown file per section. `crawl`: the
same sections as a locally served 10,000-page site (HTML pages with ETags, a sitemap
index, robots.txt) through the `sitemap` connector: pages per second and peak RSS of
the first crawl, then a re-crawl after 1% of the pages changed, counting the page bodies
it downloaded (`recrawl_bodies_fetched`: it must equal the changed pages). With
`--store weaviate --pages 50000` (WEAVIATE_URL, see scripts/weaviate.sh), the sections
are served repeatedly (each copy a distinct page) to show that a big crawl's memory stays
flat: RSS is sampled every tenth of the pages (keys `weaviate_crawl_*`). Results:
benchmarks/results/sync.json and sync.md (each case updates its own keys and section).
"""

from __future__ import annotations

import argparse
import hashlib
import html
import json
import os
import random
import resource
import shutil
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HAYSTACK_TELEMETRY_ENABLED", "False")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks._common import machine_summary, write_corpus, write_results  # noqa: E402
from knowledge.sources import SourceSpec  # noqa: E402
from knowledge.stores import PersistentInMemoryDocumentStore, open_document_store  # noqa: E402
from knowledge.sync import COUNTS, KnowledgeSync  # noqa: E402
from supportbot.logs import configure_logging  # noqa: E402
from supportbot.settings import DocumentStoreKind, Settings  # noqa: E402

SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"


def rss_mb() -> float:
    """This process's resident memory now (not the peak)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def timed_sync(
    work: Path, sources: list, settings: Settings | None = None, progress=None
) -> tuple[dict, float]:
    # A new store object each pass, loaded from disk, as a new `supportbot sync` would.
    settings = settings or Settings(data_dir=work)
    store = (
        open_document_store(settings)
        if settings.document_store is DocumentStoreKind.WEAVIATE
        else PersistentInMemoryDocumentStore(work / "store.json")
    )
    syncer = KnowledgeSync(settings, store)
    started = time.perf_counter()
    try:
        reports = syncer.sync(sources, progress)
        seconds = time.perf_counter() - started
        totals = {key: sum(r.counts()[key] for r in reports) for key in COUNTS}
        totals["chunks_in_store"] = store.count_documents()
    finally:
        if settings.document_store is DocumentStoreKind.WEAVIATE:
            store.client.close()  # type: ignore[attr-defined]
    return totals, seconds


class Site:
    """The corpus as a docs site: /p/N pages (ETag = a hash of the page), sitemaps of
    5,000 URLs under one index, robots.txt; counts the page bodies it sends."""

    def __init__(self, corpus: list[dict]) -> None:
        self.pages: dict[str, tuple[bytes, str]] = {}
        self.bodies_sent = 0
        self.lock = threading.Lock()
        for number, section in enumerate(corpus):
            self.set(number, section)
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                status, body, headers = site.answer(self.path, self.headers.get("If-None-Match"))
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def set(self, number: int, section: dict) -> None:
        title = html.escape(str(section.get("title") or section.get("id") or number))
        text = html.escape(section["text"])
        body = (
            f"<html><head><title>{title}</title></head><body><main><h1>{title}</h1>"
            f"<p>{text}</p></main></body></html>"
        ).encode()
        self.pages[f"/p/{number}"] = (body, f'"{hashlib.sha256(body).hexdigest()[:16]}"')

    def answer(self, path: str, if_none_match: str | None) -> tuple[int, bytes, dict[str, str]]:
        if path == "/robots.txt":
            return 200, b"User-agent: *\nDisallow: /private/\n", {"Content-Type": "text/plain"}
        if path == "/sitemap.xml":
            parts = range(0, len(self.pages), 5000)
            children = "".join(
                f"<sitemap><loc>{self.url}/sitemap-{start}.xml</loc></sitemap>" for start in parts
            )
            return (
                200,
                (f'<sitemapindex xmlns="{SITEMAP_NS}">{children}</sitemapindex>').encode(),
                {},
            )
        if path.startswith("/sitemap-"):
            start = int(path.removeprefix("/sitemap-").removesuffix(".xml"))
            urls = "".join(
                f"<url><loc>{self.url}/p/{n}</loc></url>"
                for n in range(start, min(start + 5000, len(self.pages)))
            )
            return 200, (f'<urlset xmlns="{SITEMAP_NS}">{urls}</urlset>').encode(), {}
        if path not in self.pages:
            return 404, b"not found", {}
        body, etag = self.pages[path]
        if if_none_match == etag:
            return 304, b"", {"ETag": etag}
        with self.lock:
            self.bodies_sent += 1
        return 200, body, {"Content-Type": "text/html; charset=utf-8", "ETag": etag}


def crawl_case(args: argparse.Namespace, corpus: list[dict]) -> None:
    pages = corpus_pages(corpus, args.pages or len(corpus))
    site = Site(pages)
    work = args.work_dir / f"crawl-{args.store}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    settings = Settings(data_dir=work)
    if args.store == "weaviate":
        settings = Settings(
            data_dir=work,
            document_store="weaviate",
            weaviate_url=os.environ["WEAVIATE_URL"],
            weaviate_collection="SyncBenchmark",
        )
        drop_collection(settings)
    source = SourceSpec(
        name="site", kind="manual", type="sitemap", url=f"{site.url}/sitemap.xml", concurrency=8
    )
    samples: dict[int, int] = {}
    done = 0

    def sample(_source: str, event: str, amount: int) -> None:
        nonlocal done
        if event != "advance":
            return
        before, done = done, done + amount
        step = max(1, len(pages) // 10)
        if done // step > before // step:
            samples[done] = round(rss_mb())

    full, full_s = timed_sync(work, [source], settings, sample)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"crawl: {full} in {full_s:.1f}s, peak RSS {peak_mb:.0f} MB, RSS by pages {samples}")

    picker = random.Random(7)  # noqa: S311 (a repeatable sample, not a secret)
    changed = picker.sample(range(len(pages)), int(len(pages) * args.changed_fraction))
    for number in changed:
        pages[number]["text"] += " (Revised in the latest edition of this manual.)"
        site.set(number, pages[number])
    site.bodies_sent = 0
    again, again_s = timed_sync(work, [source], settings)
    print(f"re-crawl, {len(changed)} pages changed: {again} in {again_s:.1f}s")
    prefix = "" if args.store == "memory" else "weaviate_"
    figures = {
        f"{prefix}crawl_pages": len(pages),
        f"{prefix}crawl_seconds": round(full_s, 1),
        f"{prefix}crawl_pages_per_s": round(full["added"] / full_s, 1),
        f"{prefix}crawl_peak_rss_mb": round(peak_mb),
        f"{prefix}crawl_chunks_embedded": full["chunks_embedded"],
        f"{prefix}crawl_failed": full["failed"],
        f"{prefix}recrawl_changed_pages": len(changed),
        f"{prefix}recrawl_bodies_fetched": site.bodies_sent,
        f"{prefix}recrawl_items_updated": again["updated"],
        f"{prefix}recrawl_chunks_embedded": again["chunks_embedded"],
        f"{prefix}recrawl_seconds": round(again_s, 1),
    }
    if args.store == "weaviate":
        figures[f"{prefix}crawl_rss_mb_by_pages"] = samples
        drop_collection(settings)
    heading = (
        "## Crawl (the sitemap connector)"
        if args.store == "memory"
        else f"## Crawl of {len(pages)} pages into Weaviate"
    )
    growth = ""
    if samples:
        growth = (
            "\n\nResident memory while crawling (MB, by pages done): "
            + ", ".join(f"{n}: {mb}" for n, mb in sorted(samples.items()))
            + f"; between {min(samples.values())} and {max(samples.values())} MB throughout."
        )
    markdown = (
        f"{heading}\n\n"
        f"{len(pages)} pages of e-manual sections served as HTML on a local site (ETags, a "
        f"sitemap index, robots.txt), 8 requests at a time, {args.store} store.\n\n"
        "| pass | pages | bodies downloaded | chunks embedded | seconds |\n|---|---|---|---|---|\n"
        f"| first crawl | {full['added']} added | {len(pages)} | {full['chunks_embedded']} | "
        f"{full_s:.1f} ({full['added'] / full_s:.1f} pages/s, peak RSS {peak_mb:.0f} MB) |\n"
        f"| re-crawl, {len(changed)} changed | {again['updated']} updated | {site.bodies_sent} | "
        f"{again['chunks_embedded']} | {again_s:.1f} |"
        f"{growth}\n"
    )
    merge_results(figures, replace_section(previous_markdown(), heading, markdown))


def corpus_pages(corpus: list[dict], count: int) -> list[dict]:
    """`count` pages from the corpus's sections; past its end, copies marked as such (each
    a distinct page, so nothing is deduplicated)."""
    pages = []
    for number in range(count):
        section = dict(corpus[number % len(corpus)])
        copy = number // len(corpus)
        if copy:
            section["title"] = f"{section.get('title') or section.get('id')} (edition {copy + 1})"
            section["text"] = f"Edition {copy + 1}. {section['text']}"
        pages.append(section)
    return pages


def drop_collection(settings: Settings) -> None:
    store = open_document_store(settings)
    store.client.collections.delete(settings.weaviate_collection)  # type: ignore[attr-defined]
    store.client.close()  # type: ignore[attr-defined]


def replace_section(markdown: str, heading: str, section: str) -> str:
    """The results page with the `## heading` section replaced (or added at the end)."""
    parts = markdown.split("\n## ")
    kept = [parts[0].rstrip()] + [
        "## " + part.rstrip() for part in parts[1:] if not ("## " + part).startswith(heading)
    ]
    return "\n\n".join([*kept, section.strip()]) + "\n"


def previous_markdown() -> str:
    path = ROOT / "benchmarks" / "results" / "sync.md"
    return path.read_text(encoding="utf-8") if path.exists() else ""


def merge_results(figures: dict, markdown: str) -> None:
    """Update this case's keys, keeping the other case's (one sync.json for both)."""
    path = ROOT / "benchmarks" / "results" / "sync.json"
    merged = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    merged.update(figures)
    merged["machine"] = machine_summary()
    write_results("sync", merged, markdown)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--eval-dir", type=Path, default=ROOT.parent / "shared/eval/emanual")
    parser.add_argument("--work-dir", type=Path, default=ROOT / "benchmarks/.work/sync")
    parser.add_argument("--sections", type=int, default=10_000)
    parser.add_argument("--changed-fraction", type=float, default=0.01)
    parser.add_argument("--case", choices=["files", "crawl"], default="files")
    parser.add_argument("--store", choices=["memory", "weaviate"], default="memory")
    parser.add_argument("--pages", type=int, default=0, help="crawl: pages (default: sections)")
    args = parser.parse_args()
    configure_logging(level="WARNING")

    corpus = json.loads((args.eval_dir / "corpus.json").read_text(encoding="utf-8"))
    corpus = corpus[: args.sections]
    if args.case == "crawl":
        crawl_case(args, corpus)
        return
    shutil.rmtree(args.work_dir, ignore_errors=True)
    sources = write_corpus(corpus, args.work_dir / "corpus")

    full, full_s = timed_sync(args.work_dir, sources)
    print(f"full sync: {full} in {full_s:.1f}s")
    unchanged, unchanged_s = timed_sync(args.work_dir, sources)
    print(f"unchanged re-sync: {unchanged} in {unchanged_s:.1f}s")

    picker = random.Random(7)  # noqa: S311 (a repeatable sample, not a secret)
    changed_sections = picker.sample(corpus, int(len(corpus) * args.changed_fraction))
    for section in changed_sections:
        section["text"] += " (Revised in the latest edition of this manual.)"
    write_corpus(corpus, args.work_dir / "corpus")
    changed, changed_s = timed_sync(args.work_dir, sources)
    print(f"{len(changed_sections)} sections changed: {changed} in {changed_s:.1f}s")

    figures = {
        "sections": len(corpus),
        "full_seconds": round(full_s, 1),
        "full_chunks_embedded": full["chunks_embedded"],
        "unchanged_seconds": round(unchanged_s, 1),
        "unchanged_chunks_embedded": unchanged["chunks_embedded"],
        "changed_sections": len(changed_sections),
        "changed_seconds": round(changed_s, 1),
        "changed_items_updated": changed["updated"],
        "changed_chunks_embedded": changed["chunks_embedded"],
        "chunks_in_store": changed["chunks_in_store"],
        "machine": machine_summary(),
    }
    markdown = (
        "# Incremental sync\n\n"
        f"{len(corpus)} e-manual sections, one Markdown file each, embedded store.\n\n"
        "| pass | items updated | chunks embedded | seconds |\n|---|---|---|---|\n"
        f"| full | {full['added']} added | {full['chunks_embedded']} | {full_s:.1f} |\n"
        f"| unchanged | 0 | {unchanged['chunks_embedded']} | {unchanged_s:.1f} |\n"
        f"| {args.changed_fraction:.0%} changed | {changed['updated']} | "
        f"{changed['chunks_embedded']} | {changed_s:.1f} |\n\n"
        f"Machine: {machine_summary()}\n"
    )
    old = previous_markdown()
    rest = old.split("\n## ", 1)[1] if "\n## " in old else ""
    merge_results(figures, markdown + ("\n## " + rest if rest else ""))


if __name__ == "__main__":
    main()
