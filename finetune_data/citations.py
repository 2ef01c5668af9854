"""Citation markers for reference answers, so a fine-tuned model learns to cite.

A 👍 answer already cites its sources ("[1]", "[2][3]"). A lead's correction, an imported
FAQ answer or a benchmark's gold answer usually does not: each of its sentences is
linked here to the prompt sources that state it, judged by how many of the sentence's
content words the source contains, and gets their markers. A sentence no source
supports stays unmarked rather than getting a wrong citation.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

CITED = re.compile(r"\[(\d+)\]")
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])|\n+")
_WORD = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*")
# Words that say nothing about which source a sentence comes from.
_FUNCTION_WORDS = frozenset(
    " ".join(
        [
            "a an and are as at be been but by can do does for from has have how i if in into",
            "is it its may more most must no not of on or so such than that the their them",
            "then there these they this to was we were what when where which while who will",
            "with you your",
        ]
    ).split()
)
MIN_SUPPORT = 0.6  # share of a sentence's content words a source must contain
MIN_WORDS = 3  # shorter sentences ("Yes.") carry too little to attribute


def has_citations(answer: str) -> bool:
    return bool(CITED.search(answer))


def add_citations(answer: str, sources: Sequence[dict[str, Any]], limit: int = 2) -> str:
    """`answer` with "[n]" after each sentence that sources n (1-based, prompt order)
    support; unchanged when it already cites or nothing supports it."""
    if has_citations(answer) or not sources:
        return answer
    source_words = [set(_content_words(str(s.get("text") or ""))) for s in sources]
    pieces = []
    position = 0
    for match in [*_SENTENCE.finditer(answer), None]:
        end = match.start() if match else len(answer)
        sentence = answer[position:end]
        pieces.append(_cite_sentence(sentence, source_words, limit))
        if match:
            pieces.append(match.group(0))
            position = match.end()
    return "".join(pieces)


def _cite_sentence(sentence: str, source_words: list[set[str]], limit: int) -> str:
    words = set(_content_words(sentence))
    if len(words) < MIN_WORDS:
        return sentence
    support = [(len(words & known) / len(words), n) for n, known in enumerate(source_words, 1)]
    best = sorted((s for s in support if s[0] >= MIN_SUPPORT), key=lambda s: (-s[0], s[1]))
    if not best:
        return sentence
    markers = "".join(f"[{n}]" for _, n in sorted(best[:limit], key=lambda s: s[1]))
    stripped = sentence.rstrip()
    # The marker goes before the sentence's final punctuation, as the prompt's examples do.
    if stripped and stripped[-1] in ".!?:":
        return f"{stripped[:-1]} {markers}{stripped[-1]}{sentence[len(stripped) :]}"
    return f"{stripped} {markers}{sentence[len(stripped) :]}"


def _content_words(text: str) -> list[str]:
    return [w for w in _WORD.findall(text.casefold()) if w not in _FUNCTION_WORDS]
