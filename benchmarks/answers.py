"""Answer quality through the whole answering path (retrieval, supersession, abstention,
excerpts or generation, citations), on the e-manual dev questions.

Three question sets, each asked through `AnsweringService.answer` scoped to the
questions' product, as a channel with a product setting would ask:

* answerable: the dev questions (`--limit` N: the first N), their gold sections present;
* not found: the same questions with their gold sections out of reach (a filter keeps
  every chunk of those sections out of retrieval, as if they had been removed from the
  index; BM25's term statistics still count them);
* supersession: benchmarks/data/supersession.json (build it with
  benchmarks/supersession_set.py): each dated update is indexed from an Atom feed, as
  a release-notes source would be, and the answer must lead with the update's fact.

Figures: answer correctness against the gold answers (token F1, and key facts: the
numbers and named settings of the gold answer found in ours), citation validity (every
marker points to a listed source) and precision (cited sources that hold the gold
section or most of the gold answer's words), supersession correctness, abstention on
not-found and answering on answerable questions (at the shipped threshold and a sweep),
and latency.

    # excerpt mode (no LLM)
    .venv/bin/python benchmarks/answers.py
    # any OpenAI-compatible endpoint, e.g. the bundled small model on CPU:
    .venv/bin/supportbot serve-model --port 8100 &
    SUPPORTBOT_LLM_BASE_URL=http://127.0.0.1:8100/v1 SUPPORTBOT_LLM_MODEL=base \\
        .venv/bin/python benchmarks/answers.py --mode llm --limit 20

Results: benchmarks/results/answers.json (excerpt-mode keys plain, LLM-mode keys
prefixed with `llm_`) and answers.md. The index is a copy of benchmarks/retrieval.py's
(run that first, or the whole corpus is embedded here) plus the updates' feed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from xml.sax.saxutils import escape

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HAYSTACK_TELEMETRY_ENABLED", "False")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks._common import (  # noqa: E402
    RESULTS,
    machine_summary,
    section_file,
    source_name,
    write_corpus,
)
from knowledge.answering import (  # noqa: E402
    DEFAULT_ABSTAIN_THRESHOLD,
    Answer,
    AnsweringService,
    Citation,
)
from knowledge.sources import SourceSpec  # noqa: E402
from knowledge.stores import PersistentInMemoryDocumentStore  # noqa: E402
from knowledge.sync import KnowledgeSync  # noqa: E402
from supportbot.logs import configure_logging  # noqa: E402
from supportbot.settings import Settings  # noqa: E402

UPDATES_SOURCE = "emanual-updates"
SWEEP = [0.2, 0.3, 0.35, 0.4, 0.45, 0.5]
_TOKEN = re.compile(r"(?u)\b\w+\b")
_MARKER = re.compile(r"\[(\d+)\]")
_NAMED = re.compile(r"\b[A-Z][\w+-]*(?:\s+[A-Z][\w+-]*)+\b")  # "Auto Power Off"
_NUMBER = re.compile(r"\b\d+(?:\.\d+)?\b")


# --- scoring ---------------------------------------------------------------------------


def answer_words(answer: Answer) -> str:
    """The answer's own text: no intro, no passage headings, no citation markers."""
    lines = [
        line
        for line in answer.text.splitlines()
        if line.strip() and not line.startswith("**") and not line.endswith(":")
    ]
    return _MARKER.sub(" ", "\n".join(lines))


def tokens(text: str) -> list[str]:
    return [t.lower() for t in _TOKEN.findall(text)]


def token_f1(prediction: str, gold: str) -> float:
    predicted, wanted = Counter(tokens(prediction)), Counter(tokens(gold))
    common = sum((predicted & wanted).values())
    if not common:
        return 0.0
    precision, recall = common / sum(predicted.values()), common / sum(wanted.values())
    return 2 * precision * recall / (precision + recall)


def key_facts(gold: str) -> set[str]:
    """Numbers and named settings ("Auto Power Off") of a gold answer; "yes"/"no" when
    the gold answer is one."""
    if gold.strip().lower().rstrip(".") in ("yes", "no"):
        return {gold.strip().lower().rstrip(".")}
    return {m.lower() for m in _NAMED.findall(gold)} | set(_NUMBER.findall(gold))


def key_fact_recall(answer_text: str, gold: str) -> float | None:
    facts = key_facts(gold)
    if not facts:
        return None
    text = answer_text.lower()
    return sum(fact in text for fact in facts) / len(facts)


def citations_valid(answer: Answer) -> bool:
    numbers = {int(n) for n in _MARKER.findall(answer.text)}
    listed = {citation.number for citation in answer.citations}
    return bool(numbers) and numbers <= listed


def supporting(citation: Citation, gold_titles: set[str], question: dict) -> bool:
    """A cited source supports the answer when it is a gold section (by its title) or
    its excerpt holds at least half of the gold answer's words."""
    if citation.title in gold_titles:
        return True
    wanted = set(tokens(question["answer"]))
    return bool(wanted) and len(wanted & set(tokens(citation.excerpt))) / len(wanted) >= 0.5


def leads_with_new_fact(text: str, case: dict) -> bool:
    lowered = text.lower()
    new, old = lowered.find(case["new_fact"].lower()), lowered.find(case["old_fact"].lower())
    return new >= 0 and (old < 0 or new < old)


# --- the knowledge base ----------------------------------------------------------------


def updates_feed(cases: list[dict], path: Path) -> None:
    """The supersession set's updates as an Atom feed (one entry per distinct update)."""
    entries, seen = [], set()
    for case in cases:
        if case["update_url"] in seen:
            continue
        seen.add(case["update_url"])
        entries.append(
            "<entry>"
            f"<title>{escape(case['update_title'])}</title>"
            f"<id>{escape(case['update_url'])}</id>"
            f'<link href="{escape(case["update_url"])}"/>'
            f"<published>{case['published_at']}</published>"
            f'<content type="text">{escape(case["new_sentence"])}</content>'
            "</entry>"
        )
    path.write_text(
        '<?xml version="1.0" encoding="utf-8"?>'
        '<feed xmlns="http://www.w3.org/2005/Atom"><title>TV software updates</title>'
        "<id>https://updates.example/tv</id>" + "".join(entries) + "</feed>\n",
        encoding="utf-8",
    )


def knowledge_base(
    settings: Settings, work_dir: Path, corpus: list[dict], cases: list[dict]
) -> PersistentInMemoryDocumentStore:
    work_dir.mkdir(parents=True, exist_ok=True)
    store_path = work_dir / "store.json"
    indexed = ROOT / "benchmarks/.work/retrieval/store.json"
    if not store_path.exists() and indexed.exists():
        shutil.copy(indexed, store_path)  # the same chunks and embeddings: nothing to embed
    sources = write_corpus(corpus, work_dir / "corpus")
    updates_feed(cases, work_dir / "updates.xml")
    product = cases[0]["product"] if cases else None
    sources.append(
        SourceSpec(
            name=UPDATES_SOURCE,
            kind="update",
            type="feed",
            path=work_dir / "updates.xml",
            product=product,
        )
    )
    store = PersistentInMemoryDocumentStore(store_path)
    reports = KnowledgeSync(settings, store).sync(sources)
    failed = sum(report.failed for report in reports)
    print(f"knowledge base: {store.count_documents()} chunks, {failed} failed items")
    return store


# --- running ---------------------------------------------------------------------------


def scope(product: str, without: list[str] | None = None, updates: bool = False) -> dict:
    conditions: list[dict] = [{"field": "meta.product", "operator": "==", "value": product}]
    if not updates:
        conditions.append({"field": "meta.source", "operator": "!=", "value": UPDATES_SOURCE})
    if without:
        conditions.append({"field": "meta.source_id", "operator": "not in", "value": without})
    return {"operator": "AND", "conditions": conditions}


def gold_items(question: dict, manual_of: dict[str, str]) -> list[str]:
    """The source ids of a question's gold sections (as write_corpus names them)."""
    return [f"{source_name(manual_of[g])}:{section_file(g)}" for g in question["gold_doc_ids"]]


def ask(service: AnsweringService, question: str, filters: dict) -> tuple[Answer, float]:
    started = time.perf_counter()
    answer = service.answer(question, filters=filters)
    return answer, (time.perf_counter() - started) * 1000


def evaluate(
    service: AnsweringService,
    questions: list[dict],
    cases: list[dict],
    manual_of: dict[str, str],
    titles: dict[str, str],
) -> dict[str, object]:
    f1, facts, valid, precision, latency = [], [], [], [], []
    answerable_evidence, not_found_evidence = [], []
    answered = abstained = 0
    for question in questions:
        product = manual_of[question["gold_doc_ids"][0]]
        answer, ms = ask(service, question["question"], scope(product))
        latency.append(ms)
        answerable_evidence.append(answer.evidence or 0.0)
        if not answer.abstained:
            answered += 1
            text = answer_words(answer)
            f1.append(token_f1(text, question["answer"]))
            recall = key_fact_recall(text, question["answer"])
            if recall is not None:
                facts.append(recall)
            valid.append(citations_valid(answer))
            gold_titles = {titles[g] for g in question["gold_doc_ids"]}
            precision += [supporting(c, gold_titles, question) for c in answer.citations]
        removed = scope(product, without=gold_items(question, manual_of))
        missing, ms = ask(service, question["question"], removed)
        latency.append(ms)
        not_found_evidence.append(missing.evidence or 0.0)
        abstained += missing.abstained
    superseded = []
    for case in cases:
        answer, ms = ask(service, case["question"], scope(case["product"], updates=True))
        latency.append(ms)
        superseded.append(not answer.abstained and leads_with_new_fact(answer.text, case))
    figures: dict[str, object] = {
        "answerable_questions": len(questions),
        "answerable_answered": round(answered / len(questions), 4),
        "not_found_abstained": round(abstained / len(questions), 4),
        "token_f1": _mean(f1),
        "key_fact_recall": _mean(facts),
        "citation_valid": _mean(valid),
        "citation_precision": _mean(precision),
        "supersession_cases": len(cases),
        "supersession_correct": _mean(superseded),
        "latency_p50_ms": round(statistics.median(latency), 1),
        "latency_p95_ms": round(statistics.quantiles(latency, n=20)[-1], 1),
        "abstain_threshold": service.abstain_threshold,
    }
    for threshold in SWEEP:  # what other evidence thresholds would have done
        key = f"{threshold:.2f}"
        figures[f"answerable_answered@{key}"] = _share(answerable_evidence, threshold, above=True)
        figures[f"not_found_abstained@{key}"] = _share(not_found_evidence, threshold, above=False)
    return figures


def _mean(values: list) -> float | None:
    return round(sum(values) / len(values), 4) if values else None


def _share(evidence: list[float], threshold: float, above: bool) -> float:
    hits = [(e >= threshold) if above else (e < threshold) for e in evidence]
    return round(sum(hits) / len(hits), 4)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mode", choices=["excerpts", "llm"], default="excerpts")
    parser.add_argument("--eval-dir", type=Path, default=ROOT.parent / "shared/eval/emanual")
    parser.add_argument("--work-dir", type=Path, default=ROOT / "benchmarks/.work/answers")
    parser.add_argument("--cases", type=Path, default=ROOT / "benchmarks/data/supersession.json")
    parser.add_argument("--limit", type=int, default=None, help="first N dev questions only")
    args = parser.parse_args()
    configure_logging(level="WARNING")

    corpus = json.loads((args.eval_dir / "corpus.json").read_text(encoding="utf-8"))
    questions = json.loads((args.eval_dir / "questions_dev.json").read_text(encoding="utf-8"))
    questions = questions[: args.limit] if args.limit else questions
    all_cases = json.loads(args.cases.read_text(encoding="utf-8"))
    cases = all_cases[: args.limit] if args.limit else all_cases
    manual_of = {section["id"]: section["source"] for section in corpus}

    settings = Settings(data_dir=args.work_dir)
    if args.mode == "excerpts":
        settings = settings.model_copy(update={"llm_base_url": None, "llm_api_key": None})
    elif not settings.llm_configured:
        raise SystemExit("--mode llm needs SUPPORTBOT_LLM_BASE_URL (or an API key)")
    store = knowledge_base(settings, args.work_dir, corpus, all_cases)  # the same index
    service = AnsweringService(settings, store, abstain_threshold=DEFAULT_ABSTAIN_THRESHOLD)
    titles = {section["id"]: section["title"] for section in corpus}
    figures = evaluate(service, questions, cases, manual_of, titles)
    prefix = "" if args.mode == "excerpts" else "llm_"
    results_path = RESULTS / "answers.json"
    results = json.loads(results_path.read_text(encoding="utf-8")) if results_path.exists() else {}
    results.update({f"{prefix}{key}": value for key, value in figures.items()})
    if args.mode == "llm":
        results["llm_model"] = settings.llm_model
        results["llm_base_url"] = settings.llm_base_url
    results["machine"] = machine_summary()
    print(json.dumps({f"{prefix}{k}": v for k, v in figures.items()}, indent=2))
    RESULTS.mkdir(parents=True, exist_ok=True)
    results_path.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    (RESULTS / "answers.md").write_text(markdown(results), encoding="utf-8")
    print(f"machine: {machine_summary()}\nwrote {results_path} and answers.md")


def markdown(results: dict) -> str:
    rows = []
    for label, prefix in (("excerpts (no LLM)", ""), ("LLM", "llm_")):
        if f"{prefix}token_f1" not in results and f"{prefix}answerable_answered" not in results:
            continue
        name = f"{label}: {results.get('llm_model')}" if prefix else label
        rows.append(
            f"| {name} | {results.get(prefix + 'answerable_questions')} "
            f"| {results.get(prefix + 'token_f1')} | {results.get(prefix + 'key_fact_recall')} "
            f"| {results.get(prefix + 'citation_valid')} "
            f"| {results.get(prefix + 'citation_precision')} "
            f"| {results.get(prefix + 'supersession_correct')} "
            f"| {results.get(prefix + 'answerable_answered')} "
            f"| {results.get(prefix + 'not_found_abstained')} "
            f"| {results.get(prefix + 'latency_p50_ms')} |"
        )
    return (
        "# Answers on the e-manual dev questions, through the whole answering path\n\n"
        "Scoped to the questions' product. Not found: the same questions with their gold "
        "sections out of reach. Supersession: benchmarks/data/supersession.json.\n\n"
        "| mode | questions | token F1 | key facts | citations valid | citation precision "
        "| supersession correct | answerable answered | not found abstained | p50 ms |\n"
        "|---|---|---|---|---|---|---|---|---|---|\n" + "\n".join(rows) + "\n\n"
        f"Machine: {results.get('machine')}\n"
    )


if __name__ == "__main__":
    main()
