"""Analytics for support leads: how the bot did over a period, and where the docs fall short.

Knowledge gaps are the questions the bot abstained on or people rated 👎 without a
correction, grouped by topic: questions whose embeddings are close (cosine ≥
TOPIC_SIMILARITY) form one topic, named by its most typical question.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from knowledge.components.embedders import Embed
from supportbot.models import Exchange, Feedback, Rating, Surface, utcnow

TOPIC_SIMILARITY = 0.6
TOP_TOPICS = 5


@dataclass
class Topic:
    question: str
    count: int
    examples: list[str] = field(default_factory=list)


@dataclass
class Report:
    since: datetime
    until: datetime
    questions: int = 0
    answered: int = 0
    abstained: int = 0
    by_surface: dict[str, int] = field(default_factory=dict)
    thumbs_up: int = 0
    thumbs_down: int = 0
    handoffs: int = 0
    web_handoffs_waiting: int = 0  # web visitors who left an e-mail: answer from /review
    gaps: list[Topic] = field(default_factory=list)

    @property
    def thumbs_up_rate(self) -> float | None:
        rated = self.thumbs_up + self.thumbs_down
        return round(self.thumbs_up / rated, 3) if rated else None

    def as_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["since"], data["until"] = self.since.isoformat(), self.until.isoformat()
        data["thumbs_up_rate"] = self.thumbs_up_rate
        return data


def build_report(
    engine: Engine, embed: Embed | None, days: int = 7, until: datetime | None = None
) -> Report:
    until = until or utcnow()
    report = Report(since=until - timedelta(days=days), until=until)
    with Session(engine) as session:
        exchanges = session.exec(
            select(Exchange).where(
                col(Exchange.created_at) >= report.since, col(Exchange.created_at) < until
            )
        ).all()
        ids = [e.id for e in exchanges]
        ratings = (
            session.exec(select(Feedback).where(col(Feedback.exchange_id).in_(ids))).all()
            if ids
            else []
        )
    report.questions = len(exchanges)
    report.abstained = sum(1 for e in exchanges if e.abstained)
    report.answered = report.questions - report.abstained
    for exchange in exchanges:
        surface = exchange.surface.value
        report.by_surface[surface] = report.by_surface.get(surface, 0) + 1
    report.handoffs = sum(1 for e in exchanges if e.escalated)
    report.web_handoffs_waiting = sum(
        1 for e in exchanges if e.escalated and e.surface == Surface.WEB and e.contact
    )
    report.thumbs_up = sum(1 for f in ratings if f.rating == Rating.UP)
    report.thumbs_down = sum(1 for f in ratings if f.rating == Rating.DOWN)

    corrected = {f.exchange_id for f in ratings if f.correction}
    disliked = {f.exchange_id for f in ratings if f.rating == Rating.DOWN} - corrected
    gap_questions = [e.question for e in exchanges if e.abstained or e.id in disliked]
    if gap_questions and embed is not None:
        report.gaps = group_by_topic(gap_questions, embed)[:TOP_TOPICS]
    else:
        report.gaps = [Topic(q, 1, [q]) for q in gap_questions[:TOP_TOPICS]]
    return report


def group_by_topic(questions: Sequence[str], embed: Embed) -> list[Topic]:
    """Greedy clustering: each question joins the first topic it is close to."""
    vectors = embed(list(questions))
    groups: list[list[int]] = []
    for index in range(len(questions)):
        for group in groups:
            if float(vectors[group[0]] @ vectors[index]) >= TOPIC_SIMILARITY:
                group.append(index)
                break
        else:
            groups.append([index])
    topics = []
    for group in groups:
        centre = vectors[group].mean(axis=0)
        typical = group[int(np.argmax(vectors[group] @ centre))]
        topics.append(Topic(questions[typical], len(group), [questions[i] for i in group[:3]]))
    return sorted(topics, key=lambda t: -t.count)


def render(report: Report, slack: bool = False) -> str:
    """The report as Markdown, or as Slack mrkdwn with `slack=True`."""
    bold = "*" if slack else "**"
    rate = f"{report.thumbs_up_rate:.0%}" if report.thumbs_up_rate is not None else "no ratings"
    surfaces = ", ".join(f"{n} {s}" for s, n in sorted(report.by_surface.items())) or "none"
    lines = [
        f"{bold}supportbot report{bold}, {report.since:%Y-%m-%d} to {report.until:%Y-%m-%d}",
        f"• Questions: {report.questions} ({surfaces})",
        f"• Answered: {report.answered} · abstained: {report.abstained}",
        f"• :+1: rate: {rate} ({report.thumbs_up} :+1: / {report.thumbs_down} :-1:)",
        f"• Hand-offs to a human: {report.handoffs}"
        + (
            f" ({report.web_handoffs_waiting} from the web chat with an e-mail to reply to; "
            "see the review page)"
            if report.web_handoffs_waiting
            else ""
        ),
    ]
    if report.gaps:
        lines.append(f"{bold}Top knowledge gaps{bold}")
        lines += [
            f"{n}. {t.question} (asked {t.count} times)" for n, t in enumerate(report.gaps, start=1)
        ]
    else:
        lines.append("No knowledge gaps this period.")
    text = "\n".join(lines)
    if not slack:
        text = text.replace(":+1:", "👍").replace(":-1:", "👎")
    return text
