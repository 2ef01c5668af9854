"""The words of a question that BM25 should search for.

Manuals speak in the second person ("you", "your device"); questions in the first and
in question words ("how can I", "my app"). Left in, those words are rare in the index
and so weigh a lot: one 34-word troubleshooting stub ("I launched an app … How can I
change the language? My application is not working.") was BM25's first hit for about a
fifth of the e-manual dev questions. This component drops question and function words
from the lexical query only; dense search still reads the whole question.

Short words that carry meaning in support questions stay: "on", "off", "up", "down",
"in", "out", "not", "no", "all", "before", "after". A question made only of dropped
words is searched as asked. Measured on the e-manual dev questions
(benchmarks/retrieval.py, 5-fold figures in benchmarks/results/retrieval.json).
"""

from __future__ import annotations

import re

from haystack import component

from knowledge.stores.search_index import WORD_PATTERN

_DROPPED = """
how what which when where why who whom whose can could should would shall may might
do does did is are was were be been am will
i me my mine we our us you your it its this that these those there
want know get tell about please help need information way possible some any use using
a an the to of for if and or with from such into
"""  # asking; the asker and the reader; phrasing; words that carry no topic
QUESTION_WORDS = frozenset(_DROPPED.split())
WORD = re.compile(WORD_PATTERN)  # words as the BM25 index splits them


def lexical_query(question: str) -> str:
    """`question` without question and function words (as asked if nothing is left)."""
    words = WORD.findall(question)
    kept = [word for word in words if word.lower() not in QUESTION_WORDS]
    return " ".join(kept) if kept else question


@component
class LexicalQuery:
    """The BM25 side of a query: `lexical_query` as a pipeline step."""

    @component.output_types(query=str)
    def run(self, query: str) -> dict[str, str]:
        return {"query": lexical_query(query)}
