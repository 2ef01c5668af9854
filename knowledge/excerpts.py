"""Excerpt answers (no LLM, or the LLM is down) and updates that supersede older text.

An excerpt answer should read like an answer: the best passage first, one passage per
source item, its steps, lists and tables kept, and only what answers the question.
When a dated update changes a fact that retrieved manual text states (a number, a
menu path, a yes/no) and the change is about the question, the update comes just before
that text ("Since Firmware 3.2 (2026-10-14): …") and the older text is labelled as
older; the LLM prompt gets the same pairs (prompts.py).

Passages are cut into *units*: a line of prose is split into sentences, a numbered
list (steps) stays whole, each bullet item and each table row stands alone (release
notes list unrelated changes; a table row is one fact). Units are scored by the
question's search words (lexical_query.py) they contain.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from haystack import Document

from knowledge.components.lexical_query import QUESTION_WORDS, WORD, lexical_query
from knowledge.documents import DocumentKind

PASSAGE_CHARS = 700  # what one excerpt may hold before sentence selection cuts it
MIN_SHARED_SHARE = 0.5  # of the update unit's words a manual unit shares: same topic
ABOUT_SHARE = 0.15  # of the best unit's weighted question words an update's change needs

_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])")
_NUMBERED = re.compile(r"^\s*\d+[.)]\s+")
_BULLET = re.compile(r"^\s*[-*•]\s+")
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{3,}")
_NEGATIONS = frozenset({"not", "no", "never", "cannot", "longer", "off", "disabled"})


@dataclass
class Unit:
    text: str  # Markdown, as shown
    kind: str  # "sentence" | "steps" | "item" | "row" | "header"
    line: int  # which line of the passage it starts on (for paragraph breaks)


@dataclass
class Supersession:
    """`update` changes a fact that `older` (manual text) states."""

    update: Document
    older: Document
    update_unit: str
    older_unit: str


def stem(word: str) -> str:
    word = word.lower()
    for suffix in ("ing", "es", "s", "ed"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def words(text: str) -> set[str]:
    return {stem(word) for word in WORD.findall(text)}


def question_terms(question: str) -> set[str]:
    return {term for term in words(lexical_query(question)) if not term.isdigit()}


def body(document: Document) -> list[str]:
    """The passage's logical lines, without the heading lines the citation already
    shows: hard-wrapped prose is joined, an indented line continues its list item."""
    lines: list[str] = []
    structured = False  # the last logical line is a list item or a table row
    for raw in (document.content or "").splitlines():
        line = raw.rstrip()
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        starts_unit = bool(_NUMBERED.match(line) or _BULLET.match(line) or _is_row(line))
        continues_item = structured and line[:1].isspace() and not _is_row(lines[-1])
        if lines and not starts_unit and (continues_item or not structured):
            lines[-1] += " " + line.strip()
        else:
            lines.append(line.strip())
            structured = starts_unit
    return lines


def _is_row(line: str) -> bool:
    return line.lstrip().startswith("|") or " | " in line


def units(document: Document) -> list[Unit]:
    found: list[Unit] = []
    lines = body(document)
    steps: list[str] = []
    for number, line in enumerate(lines):
        if _NUMBERED.match(line):
            steps.append(line)
            continue
        if steps:
            found.append(Unit("\n".join(steps), "steps", number - len(steps)))
            steps = []
        if _TABLE_RULE.match(line):
            continue
        if _is_row(line):
            header = number + 1 < len(lines) and bool(_TABLE_RULE.match(lines[number + 1]))
            found.append(Unit(line, "header" if header else "row", number))
        elif _BULLET.match(line):
            found.append(Unit(line, "item", number))
        else:
            found += [Unit(s, "sentence", number) for s in _SENTENCE_END.split(line) if s]
    if steps:
        found.append(Unit("\n".join(steps), "steps", len(lines) - len(steps)))
    return found


def relevance(unit: str, terms: set[str]) -> int:
    return len(terms & words(unit))


def numbers(text: str) -> set[str]:
    """The numbers a unit states, list markers aside."""
    lines = [_NUMBERED.sub("", _BULLET.sub("", line)) for line in text.splitlines()]
    return set(_NUMBER.findall(" ".join(lines)))


def _topic(text: str) -> set[str]:
    return {w for w in words(text) if not w.isdigit() and w not in QUESTION_WORDS}


# --- choosing what a passage shows ----------------------------------------------------


def select(document: Document, terms: set[str], limit: int = PASSAGE_CHARS) -> list[Unit]:
    """The units of `document` that answer: independent items and table rows only when
    they match best; steps whole; long prose cut to a window around its best sentence."""
    found = units(document)
    if not found:
        return []
    scores = [relevance(unit.text, terms) for unit in found]
    best = max(scores)
    kept = [
        i
        for i, unit in enumerate(found)
        if unit.kind not in ("item", "row") or best == 0 or scores[i] == best
    ]
    if not any(found[i].kind == "row" for i in kept):
        kept = [i for i in kept if found[i].kind != "header"]
    if sum(len(found[i].text) for i in kept) <= limit:
        return [found[i] for i in kept]
    return [found[i] for i in _window(kept, found, scores, limit)]


def _window(kept: list[int], found: list[Unit], scores: list[int], limit: int) -> list[int]:
    """Around the best-scoring unit: the following units, then the preceding ones, while
    they fit in `limit` characters (the best unit always)."""
    centre = max(range(len(kept)), key=lambda k: (scores[kept[k]], -k))
    chosen, size = [kept[centre]], len(found[kept[centre]].text)
    for k in [*range(centre + 1, len(kept)), *range(centre - 1, -1, -1)]:
        length = len(found[kept[k]].text)
        if size + length > limit:
            break
        chosen.append(kept[k])
        size += length
    return sorted(chosen)


def render(selected: list[Unit]) -> str:
    """Markdown blocks separated by blank lines (so a paragraph after a list is not read
    as part of its last item): a line's sentences joined, steps as their numbered list,
    consecutive bullet items as one list, a table's rows under its header and rule."""
    blocks: list[list[str]] = []
    previous: Unit | None = None
    for unit in selected:
        if previous is not None and _same_block(previous, unit):
            joiner = " " if unit.kind == "sentence" else "\n"
            blocks[-1][-1] += joiner + unit.text
        else:
            blocks.append([unit.text])
        if unit.kind == "header":
            cells = max(unit.text.strip().strip("|").count("|") + 1, 1)
            blocks[-1][-1] += "\n|" + " --- |" * cells
        previous = unit
    return "\n\n".join("\n".join(block) for block in blocks)


def _same_block(previous: Unit, unit: Unit) -> bool:
    if previous.kind == unit.kind == "sentence":
        return previous.line == unit.line
    if previous.kind == unit.kind == "item":
        return True
    return previous.kind in ("header", "row") and unit.kind == "row"


# --- updates that supersede -----------------------------------------------------------


def _dated_update(document: Document) -> bool:
    meta = document.meta
    return meta.get("kind") == DocumentKind.UPDATE and bool(meta.get("published_at"))


def _older(manual: Document, update: Document) -> bool:
    if manual.meta.get("kind") not in (DocumentKind.MANUAL, None):
        return False
    published = manual.meta.get("published_at")
    return not published or str(published) < str(update.meta["published_at"])


def _changes(update_unit: str, older_unit: str) -> bool:
    """Whether two units on one topic state a different fact: a number the older one
    lacks, or a negation one has and the other has not."""
    if numbers(update_unit) - numbers(older_unit):
        return True
    return bool((words(update_unit) ^ words(older_unit)) & _NEGATIONS)


def term_weights(documents: Sequence[Document], terms: set[str]) -> dict[str, float]:
    """How telling each question word is among these passages (an IDF over them): a
    word that nearly all of them contain, such as the product's name or "light" in a
    manual full of status lights, says little about which passage is about the question."""
    texts = [words(document.content or "") for document in documents]
    return {
        term: math.log((len(texts) + 1) / (sum(term in text for text in texts) + 0.5))
        for term in terms
    }


def weighted_relevance(unit: str, weights: Mapping[str, float]) -> float:
    return sum(weights[term] for term in weights.keys() & words(unit))


def _conflict(
    update: Document, older: Document, weights: Mapping[str, float], floor: float
) -> Supersession | None:
    """The update's unit that changes a fact of `older`: on the question (at least
    `floor` of its weighted words) and on the same topic as one of `older`'s units."""
    best: tuple[float, str, str] | None = None
    for update_unit in units(update):
        topic = _topic(update_unit.text)
        about = weighted_relevance(update_unit.text, weights)
        if not topic or not about or about < floor:
            continue
        for older_unit in units(older):
            share = len(topic & _topic(older_unit.text)) / len(topic)
            if share < MIN_SHARED_SHARE or not _changes(update_unit.text, older_unit.text):
                continue
            if best is None or share > best[0]:
                best = (share, update_unit.text, older_unit.text)
    if best is None:
        return None
    return Supersession(update, older, best[1], best[2])


def supersessions(
    documents: Sequence[Document], question: str, olders: Sequence[Document] | None = None
) -> list[Supersession]:
    """Each dated update among `documents` that changes a fact that older manual text
    among `olders` (default: `documents`) states, newest update first; one pair per
    update, with the best-ranked older text it changes.

    The update's change must be about the question about as much as the passages' best
    unit is: a release note that changes some fact of a shown page (a device limit) but
    shares only a common word with the question ("hub") supersedes nothing here."""
    candidates = documents if olders is None else olders
    passages = list({d.id: d for d in [*documents, *candidates]}.values())
    weights = term_weights(passages, question_terms(question))
    floor = ABOUT_SHARE * max(
        (weighted_relevance(unit.text, weights) for d in passages for unit in units(d)),
        default=0.0,
    )
    found = []
    updates = {d.id: d for d in reversed(documents) if _dated_update(d)}  # first one wins
    for update in reversed(updates.values()):
        pair = next(
            (
                pair
                for older in candidates
                if older.id != update.id and _older(older, update)
                if (pair := _conflict(update, older, weights, floor)) is not None
            ),
            None,
        )
        if pair is not None:
            found.append(pair)
    found.sort(key=lambda pair: str(pair.update.meta["published_at"]), reverse=True)
    return found


def updates_before_older(
    documents: Sequence[Document], found: Sequence[Supersession]
) -> list[Document]:
    """`documents` with each update of `found` just before the first passage of the item
    it changes (newest first where several change one item), unless it already ranks
    above it: the current fact comes before the older one, and an update that changes a
    lesser passage does not push the best answer down."""
    moved = {pair.update.id for pair in found}
    placed = [d for d in documents if d.id not in moved]
    for pair in reversed(found):  # the newest ends up first
        placed.insert(_place(documents, placed, pair), pair.update)
    return placed


def _place(documents: Sequence[Document], placed: list[Document], pair: Supersession) -> int:
    item = item_of(pair.older)
    anchor = next((n for n, d in enumerate(placed) if item_of(d) == item), len(placed))
    rank = next((n for n, d in enumerate(documents) if d.id == pair.update.id), None)
    if rank is not None:  # where it ranks by itself, if that is higher
        ahead = {d.id for d in documents[:rank]}
        anchor = min(anchor, next((n for n, d in enumerate(placed) if d.id not in ahead), anchor))
    return anchor


# --- the excerpt answer -----------------------------------------------------------------


def item_of(document: Document) -> str:
    """The source item (file, page, release note) a chunk comes from."""
    return str(document.meta.get("source_id") or document.id)


def one_per_item(documents: Sequence[Document]) -> list[Document]:
    """The best chunk of each source item, order kept."""
    seen: set[str] = set()
    kept = []
    for document in documents:
        item = item_of(document)
        if item not in seen:
            seen.add(item)
            kept.append(document)
    return kept


def date_of(document: Document) -> str:
    return str(document.meta.get("published_at") or "")[:10]


@dataclass
class Excerpts:
    text: str  # Markdown, citation markers [n] in order
    shown: list[Document]  # the cited passages, [1] first


def compose(question: str, documents: Sequence[Document], limit: int, intro: str) -> Excerpts:
    """The excerpt answer: the best passages in order, each superseding update just
    before the older text it changes (labelled with what changed and when; the older
    text labelled as older)."""
    terms = question_terms(question)
    found = supersessions(documents, question)
    shown = one_per_item(updates_before_older(documents, found))[:limit]
    newer_of = {item_of(pair.older): pair for pair in found}
    update_of = {pair.update.id: pair for pair in found}
    parts = [intro]
    for number, document in enumerate(shown, start=1):
        label = _label(document, update_of, newer_of, shown)
        pair = update_of.get(document.id)
        # A superseding update shows the change it makes (a release note lists others).
        changed = [u for u in units(document) if pair and u.text == pair.update_unit]
        text = render(changed or select(document, terms))
        # A marker after a table row would be read as one more cell.
        marker = f"\n\n[{number}]" if text.endswith("|") else f" [{number}]"
        parts.append(f"{label}\n\n{text}{marker}")
    return Excerpts("\n\n".join(parts), shown)


def _label(
    document: Document,
    update_of: dict[str, Supersession],
    newer_of: dict[str, Supersession],
    shown: list[Document],
) -> str:
    """The passage's bold heading: where it comes from, and whether it is the current
    fact (a superseding update) or older text that an update changed."""
    title = str(document.meta.get("title") or "Untitled")
    section = str(document.meta.get("section") or "").split(" > ")[-1].strip()
    place = section if not section or section == title else f"{section}, {title}"
    place = place or title
    if document.id in update_of:
        change = _change_note(update_of[document.id])
        return f"**Since {date_of(document)}** ({title}){change}:"
    pair = newer_of.get(item_of(document))
    shown_ids = [d.id for d in shown]
    if pair is not None and pair.update.id in shown_ids:
        number = shown_ids.index(pair.update.id) + 1
        return (
            f"**{place}**: older documentation (before {date_of(pair.update)}; "
            f"where it differs, [{number}] is current):"
        )
    dated = f" ({date_of(document)})" if date_of(document) else ""
    return f"**{place}**{dated}:"


def _change_note(pair: Supersession) -> str:
    new = numbers(pair.update_unit) - numbers(pair.older_unit)
    previous = numbers(pair.older_unit) - numbers(pair.update_unit)
    previous = previous or (numbers(pair.older_unit) & numbers(pair.update_unit))
    if new and previous:
        return f", changed from {', '.join(sorted(previous))} to {', '.join(sorted(new))}"
    return ""
