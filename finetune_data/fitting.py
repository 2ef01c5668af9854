"""Fitting a training example into a model's context without losing what it teaches.

An example is [system, user, assistant]: the rules (citing among them), the numbered
sources and the question, and the reference answer. When it is too long, sources the
answer does not cite are dropped, lowest-ranked first, and the remaining sources and
the answer's citation markers are renumbered to match; the system message, the
question and the answer are never cut. An example that still does not fit is left out
and reported, never truncated.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from finetune_data.citations import CITED

Messages = list[dict[str, str]]
CountTokens = Callable[[Messages], int]  # the tokens of a whole conversation

# One rendered source block of the answering prompt (knowledge/prompts.py ANSWER_USER);
# document text can never contain "</source" (prompts.neutralise), so this is exact.
_SOURCE_BLOCK = re.compile(r'<source id="(\d+)"([^>]*)>\n(.*?)\n</source>\n', re.DOTALL)


@dataclass
class Fitted:
    messages: Messages | None  # None: it does not fit even with every uncited source gone
    dropped_sources: int


def fit(messages: Messages, count: CountTokens, max_tokens: int) -> Fitted:
    if count(messages) <= max_tokens:
        return Fitted(messages, 0)
    user, answer = messages[-2]["content"], messages[-1]["content"]
    blocks = list(_SOURCE_BLOCK.finditer(user))
    if not blocks:
        return Fitted(None, 0)
    cited = {int(n) for n in CITED.findall(answer)}
    kept = [int(b.group(1)) for b in blocks]
    droppable = [n for n in reversed(kept) if n not in cited]
    for dropped, number in enumerate(droppable, start=1):
        kept.remove(number)
        trimmed = _render(messages, blocks, kept)
        if count(trimmed) <= max_tokens:
            return Fitted(trimmed, dropped)
    return Fitted(None, len(droppable))


def _render(messages: Messages, blocks: list[re.Match[str]], kept: list[int]) -> Messages:
    """The example with only the `kept` sources, numbered 1… in their original order,
    and the answer's markers following their sources' new numbers."""
    user = messages[-2]["content"]
    renumber = {old: new for new, old in enumerate(kept, start=1)}
    head, tail = user[: blocks[0].start()], user[blocks[-1].end() :]
    body = "".join(
        f'<source id="{renumber[int(b.group(1))]}"{b.group(2)}>\n{b.group(3)}\n</source>\n'
        for b in blocks
        if int(b.group(1)) in renumber
    )
    answer = CITED.sub(
        lambda m: f"[{renumber.get(int(m.group(1)), m.group(1))}]", messages[-1]["content"]
    )
    return [
        *messages[:-2],
        {**messages[-2], "content": head + body + tail},
        {**messages[-1], "content": answer},
    ]
