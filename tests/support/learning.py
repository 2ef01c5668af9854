"""Rated exchanges and pairs for the learning-loop tests, written straight to the database."""

from __future__ import annotations

from sqlmodel import Session, select

from supportbot.db import session_scope
from supportbot.models import Exchange, Feedback, QAPair, Rating, Surface

CONTEXT = [
    {"title": "Troubleshooting", "section": "Factory reset", "date": None, "text": "Hold Reset."}
]
PERSONAL = ["jane.doe@example.com", "+1 415 555 0134", "xoxb-1111-2222-secret", "Jane Doe"]
TOPICS = [
    "pair a motion sensor",
    "change the Wi-Fi network",
    "update the firmware",
    "rename a room",
    "set up an automation",
    "share access with family",
    "check the battery level",
    "mount the hub on a wall",
    "export the event log",
    "turn off the status light",
    "use the hub offline",
    "add a door sensor",
]


def add_exchange(engine, question: str, answer: str, surface: Surface, **fields) -> int:
    with session_scope(engine) as session:
        exchange = Exchange(
            surface=surface,
            question=question,
            answer=answer,
            context=CONTEXT,
            answer_mode=fields.pop("answer_mode", "generated"),
            **fields,
        )
        session.add(exchange)
        session.flush()
        return exchange.id


def rate(engine, exchange_id: int, rating: Rating, **fields) -> None:
    with session_scope(engine) as session:
        session.add(Feedback(exchange_id=exchange_id, rating=rating, **fields))


def all_pairs(engine) -> list[QAPair]:
    with Session(engine) as session:
        return list(session.exec(select(QAPair).order_by(QAPair.id)).all())


def all_exchanges(engine) -> list[Exchange]:
    with Session(engine) as session:
        return list(session.exec(select(Exchange).order_by(Exchange.id)).all())


def all_feedback(engine) -> list[Feedback]:
    with Session(engine) as session:
        return list(session.exec(select(Feedback)).all())


def one_pair(engine, pair_id: int) -> QAPair:
    with Session(engine) as session:
        pair = session.get(QAPair, pair_id)
    assert pair is not None
    return pair
