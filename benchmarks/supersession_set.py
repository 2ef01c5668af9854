"""Build the supersession set: dated updates that change one fact of an e-manual section.

For each e-manual dev question whose gold answer states a quantity ("for 4 hours",
"up to 10 minutes") or a yes/no ("is not available", "cannot"), the sentence of the gold
section that states it is copied into a dated release note with that one fact changed
(the quantity doubled; the negation lifted). The question is then about a fact that an
update has changed, and the answer must lead with the update's value. Deterministic: the
same shared data always gives the same set (benchmarks/data/supersession.json).

    .venv/bin/python benchmarks/supersession_set.py [--eval-dir ../shared/eval/emanual]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from knowledge.components.lexical_query import lexical_query  # noqa: E402

OUTPUT = ROOT / "benchmarks" / "data" / "supersession.json"
MAX_CASES = 40

UNITS = (
    "seconds?|minutes?|hours?|days?|weeks?|months?|years?|times|channels?|devices?"
    "|characters?|digits?|items?|apps?|programs?|levels?|percent|%"
)
QUANTITY = re.compile(rf"(?<![\d.])\b(\d+)\s*({UNITS})\b")
# A negation and what the release note says instead (the fact becomes "yes").
NEGATIONS = (
    (re.compile(r"\bcannot\b"), "can now"),
    (re.compile(r"\bis not\b"), "is now"),
    (re.compile(r"\bare not\b"), "are now"),
    (re.compile(r"\bis unavailable\b"), "is now available"),
    (re.compile(r"\bwill not\b"), "will now"),
    (re.compile(r"\bnot supported\b"), "now supported"),
    (re.compile(r"\bcan't\b"), "can now"),
)
SENTENCE = re.compile(r"(?<=[.!?])\s+")
FIRST_DATE = date(2026, 3, 2)


def changed_quantity(sentence: str) -> tuple[str, str, str] | None:
    """The sentence with its first quantity doubled: (new sentence, old fact, new fact)."""
    match = QUANTITY.search(sentence)
    if match is None:
        return None
    value, unit = match.groups()
    old = match.group(0)
    new = f"{int(value) * 2} {unit}"
    return sentence[: match.start()] + new + sentence[match.end() :], old, new


def changed_negation(sentence: str) -> tuple[str, str, str] | None:
    """The sentence with its first negation lifted: (new sentence, old fact, new fact)."""
    for pattern, replacement in NEGATIONS:
        match = pattern.search(sentence)
        if match is None:
            continue
        after = sentence[match.end() :].split()
        next_word = f" {after[0].strip('.,;:')}" if after else ""
        old = match.group(0) + next_word
        new = replacement + next_word
        return pattern.sub(replacement, sentence, count=1), old, new
    return None


def build(corpus: list[dict], questions: list[dict]) -> list[dict]:
    """One case per question; questions about the same fact (the dev set's paraphrases)
    share that fact's one update."""
    sections = {section["id"]: section for section in corpus}
    cases: list[dict] = []
    updates: dict[tuple[str, str], dict] = {}
    for question in questions:
        case = next(
            (
                found
                for gold in question["gold_doc_ids"]
                if (found := _case(question, sections[gold])) is not None
            ),
            None,
        )
        if case is None:
            continue
        key = (case["section_id"], case["old_sentence"])
        if key not in updates:
            number = len(updates) + 1
            published = FIRST_DATE + timedelta(days=5 * number)
            updates[key] = {
                "update_title": f"Software update 1.{number}: {sections[key[0]]['title']}",
                "update_url": f"https://updates.example/tv/1.{number}",
                "published_at": f"{published.isoformat()}T09:00:00Z",
            }
        cases.append({"id": f"supersession-{len(cases) + 1:02d}", **case, **updates[key]})
        if len(cases) == MAX_CASES:
            break
    return cases


def _case(question: dict, section: dict) -> dict | None:
    """A change to the sentence of the gold answer that the question is most about (most
    of the question's search words; at least one), as the section states it (the
    section's own wording), that a rule can change: a quantity or a yes/no."""
    asked = _words(lexical_query(question["question"]))
    answer_sentences = [" ".join(s.split()) for s in SENTENCE.split(question["answer"])]
    section_sentences = [" ".join(s.split()) for s in SENTENCE.split(section["text"])]
    candidates = []
    for order, (change, sentence) in enumerate(
        (change, sentence)
        for change in (changed_quantity, changed_negation)
        for sentence in answer_sentences
    ):
        stated = _stated(sentence, section_sentences, change)
        overlap = len(asked & _words(stated)) if stated else 0
        if stated and overlap:
            candidates.append((-overlap, order, change, stated))
    if not candidates:
        return None
    _, _, change, stated = min(candidates, key=lambda c: c[:2])
    new_sentence, old_fact, new_fact = change(stated) or (stated, "", "")
    return {
        "qid": question["qid"],
        "question": question["question"],
        "section_id": section["id"],
        "product": section["source"],
        "kind_of_change": "quantity" if change is changed_quantity else "yes/no",
        "old_sentence": stated,
        "new_sentence": new_sentence,
        "old_fact": old_fact,
        "new_fact": new_fact,
    }


def _words(text: str) -> set[str]:
    return {word.lower() for word in re.findall(r"(?u)\b\w+\b", text)}


Change = Callable[[str], tuple[str, str, str] | None]


def _stated(sentence: str, section_sentences: list[str], change: Change) -> str | None:
    """The section's sentence that states what answer `sentence` states: it holds the
    same changeable fact and most of the sentence's words (extraction differs slightly
    between the answers and the corpus)."""
    changed = change(sentence) if sentence else None
    if changed is None:
        return None
    fact = changed[1]
    wanted = set(sentence.lower().split())
    best, best_share = None, 0.6
    for candidate in section_sentences:
        if fact not in candidate:
            continue
        share = len(wanted & set(candidate.lower().split())) / len(wanted)
        if share >= best_share:
            best, best_share = candidate, share
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--eval-dir", type=Path, default=ROOT.parent / "shared/eval/emanual")
    args = parser.parse_args()
    corpus = json.loads((args.eval_dir / "corpus.json").read_text(encoding="utf-8"))
    questions = json.loads((args.eval_dir / "questions_dev.json").read_text(encoding="utf-8"))
    cases = build(corpus, questions)
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(json.dumps(cases, indent=2) + "\n", encoding="utf-8")
    kinds = {k: sum(c["kind_of_change"] == k for c in cases) for k in ("quantity", "yes/no")}
    distinct = len({case["update_url"] for case in cases})
    print(f"wrote {len(cases)} cases ({distinct} distinct updates) to {OUTPUT} ({kinds})")


if __name__ == "__main__":
    main()
