"""Shared helpers for the hand-run benchmarks."""

from __future__ import annotations

import json
import os
import platform
import random
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

from haystack import Document
from haystack.document_stores.types import DuplicatePolicy

from knowledge.documents import known_meta
from knowledge.sources import SourceSpec
from knowledge.stores import open_weaviate_store

RESULTS = Path(__file__).resolve().parent / "results"


def machine_summary() -> str:
    memory = ""
    try:
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        memory = f", {pages / 2**30:.0f} GiB RAM"
    except (ValueError, OSError, AttributeError):
        pass
    return (
        f"{platform.machine()} {platform.system()}, {os.cpu_count()} CPUs{memory}, "
        f"Python {platform.python_version()}"
    )


def write_results(name: str, figures: dict, markdown: str) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    (RESULTS / f"{name}.md").write_text(markdown, encoding="utf-8")
    print(f"machine: {machine_summary()}")
    print(f"wrote {RESULTS / f'{name}.json'} and {name}.md")


def source_name(manual: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "-", manual)


def section_file(section_id: str) -> str:
    """The file an e-manual section is written to: its chunks' `source_id` is the
    manual's source name, ":", then this."""
    return f"{section_id.replace(':', '__')}.md"


def write_corpus(corpus: list[dict], folder: Path) -> list[SourceSpec]:
    """One Markdown file per e-manual section, one folder source per manual.

    Files are only rewritten when their text differs, so re-syncing is incremental.
    """
    manuals: dict[str, Path] = {}
    for section in corpus:
        manual_dir = manuals.setdefault(section["source"], folder / source_name(section["source"]))
        manual_dir.mkdir(parents=True, exist_ok=True)
        path = manual_dir / section_file(section["id"])
        text = f"# {section['title']}\n\n{section['text']}\n"
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
    return [
        SourceSpec(
            name=source_name(manual), kind="manual", type="folder", path=path, product=manual
        )
        for manual, path in sorted(manuals.items())
    ]


def weaviate_copy(
    url: str, collection: str, count: int, chunks: Callable[[], Iterable[Document]]
) -> Any:
    """A Weaviate collection holding `count` chunks: reused when it already holds that
    many, else recreated from `chunks()` (schema metadata only, in batches)."""
    store = open_weaviate_store(url, collection=collection)
    if store.count_documents() == count:
        return store
    store.client.collections.delete(collection)
    store = open_weaviate_store(url, collection=collection)
    started, batch = time.perf_counter(), []
    for chunk in chunks():
        batch.append(replace(chunk, meta=known_meta(chunk.meta)))
        if len(batch) == 1000:
            store.write_documents(batch, policy=DuplicatePolicy.OVERWRITE)
            batch = []
    if batch:
        store.write_documents(batch, policy=DuplicatePolicy.OVERWRITE)
    print(f"copied {count} chunks into Weaviate in {time.perf_counter() - started:.0f}s")
    return store


def fold_indices(questions: int, folds: int = 5, seed: int = 7) -> list[list[int]]:
    """A fixed random split of question positions into `folds` folds."""
    order = list(range(questions))
    random.Random(seed).shuffle(order)  # noqa: S311 (a fixed split, not a secret)
    return [order[i::folds] for i in range(folds)]


def cross_validate(
    hits: dict[str, list[int]], questions: int, folds: int = 5
) -> tuple[list[float], list[str]]:
    """Nested k-fold selection: for each fold, the setting with the most hits on the
    other folds, scored on that fold. Returns each fold's held-out hit rate and the
    setting chosen for it, so the reported figure is never measured on the questions
    that chose it. `hits[setting][i]` is question i's hit (or count of hits)."""
    held_out, chosen = [], []
    for fold in fold_indices(questions, folds):
        held = set(fold)
        train = [i for i in range(questions) if i not in held]
        best = max(hits, key=lambda key: (sum(hits[key][i] for i in train), key))
        chosen.append(best)
        held_out.append(sum(hits[best][i] for i in fold) / len(fold))
    return held_out, chosen
