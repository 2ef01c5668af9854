"""Does an answer state the same facts as its reference? Cheap checks that catch what
embedding similarity misses: "No, WPA3 is not supported" is close in wording to "Yes,
WPA3 is supported" and opposite in meaning.

Three checks, each only when both texts say something of the kind:
- numbers: the answer's numbers (with their units) must include one of the reference's;
- yes/no polarity: an answer that opens with yes/no (or "it is not possible…") must open
  the same way as the reference;
- named settings: menu paths ("Settings > General > Reset") and quoted setting names the
  answer gives must be among the reference's when the reference names any.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from finetune_data.citations import CITED

_NUMBER = re.compile(r"(?<![\w.])(\d+(?:[.,]\d+)?)\s*(%|[a-zA-Z]+)?")
_YES = re.compile(r"^\W*(yes|yeah|yep|sure|correct|it (?:is|does|can)\b(?! ?not))", re.I)
_NO = re.compile(
    r"^\W*(no\b|nope|not\b|unfortunately|it (?:is|does|can)(?:n't| not)|"
    r"(?:\w+ ){0,6}(?:is not|isn't|are not|aren't|cannot|can't|does not|doesn't|"
    r"do not|don't|not (?:supported|available|possible)))",
    re.I,
)
_NAME = r"[A-Z][\w&'-]*(?: [A-Z&][\w&'-]*)*"
_MENU_PATH = re.compile(rf"{_NAME}(?:\s*>\s*{_NAME})+")
_QUOTES = "\"'\u201c\u201d\u2018\u2019"  # straight and curly quotation marks
_QUOTED = re.compile(rf"[{_QUOTES}]([A-Z][^{_QUOTES}]{{1,40}})[{_QUOTES}]")
# Units as written → one spelling, so "15 seconds" and "15 s" agree.
_UNITS = {
    **dict.fromkeys(["s", "sec", "secs", "second", "seconds"], "s"),
    **dict.fromkeys(["min", "mins", "minute", "minutes"], "min"),
    **dict.fromkeys(["h", "hr", "hrs", "hour", "hours"], "h"),
    **dict.fromkeys(["ms", "millisecond", "milliseconds"], "ms"),
    **dict.fromkeys(["day", "days"], "d"),
    **dict.fromkeys(["w", "watt", "watts"], "w"),
    **{u: u for u in ["kw", "v", "mah", "mhz", "ghz", "kb", "mb", "gb", "tb", "hz", "cm", "mm"]},
    **dict.fromkeys(["in", "inch", "inches"], "in"),
    "%": "%",
    "percent": "%",
}


@dataclass
class FactCheck:
    problems: list[str] = field(default_factory=list)

    @property
    def agrees(self) -> bool:
        return not self.problems


def check(answer: str, reference: str) -> FactCheck:
    answer, reference = CITED.sub("", answer), CITED.sub("", reference)
    result = FactCheck()
    numbers_answer, numbers_reference = numbers(answer), numbers(reference)
    if numbers_answer and numbers_reference and not numbers_answer & numbers_reference:
        result.problems.append(
            f"numbers {sorted(numbers_answer)} differ from the reference's "
            f"{sorted(numbers_reference)}"
        )
    polarity_answer, polarity_reference = polarity(answer), polarity(reference)
    if polarity_answer and polarity_reference and polarity_answer != polarity_reference:
        result.problems.append(
            f"says {_WORD[polarity_answer]} where the reference says {_WORD[polarity_reference]}"
        )
    named_answer, named_reference = settings_named(answer), settings_named(reference)
    if named_answer and named_reference and not named_answer & named_reference:
        result.problems.append(
            f"names {sorted(named_answer)} where the reference names {sorted(named_reference)}"
        )
    return result


_WORD = {1: "yes", -1: "no"}


def numbers(text: str) -> set[str]:
    """Numbers with a unit when one follows ("15 s", "120 w", "2.4 ghz")."""
    found = set()
    for value, unit in _NUMBER.findall(text):
        value = value.replace(",", ".")
        unit = _UNITS.get((unit or "").casefold())
        found.add(f"{value} {unit}" if unit else value)
    return found


def polarity(text: str) -> int:
    """+1 for an answer that opens with yes, -1 with no, 0 for neither."""
    first = re.split(r"(?<=[.!?])\s", text.strip(), maxsplit=1)[0]
    if _NO.match(first):
        return -1
    if _YES.match(first):
        return 1
    return 0


def settings_named(text: str) -> set[str]:
    paths = {_menu_path(p) for p in _MENU_PATH.findall(text)}
    quoted = {q.strip().casefold() for q in _QUOTED.findall(text)}
    return paths | quoted


def _menu_path(text: str) -> str:
    first, *rest = [part.strip() for part in text.split(">")]
    # "Open Settings > Network": a sentence's verb is not part of the menu's name.
    return " > ".join([first.split()[-1], *rest]).casefold()
