"""A seeded privacy corpus and the learning loop it is run through.

Every personal string below is written by us (documentation ranges are avoided where
they would make a value non-personal: public IPs are real public addresses, card
numbers pass Luhn, IBANs pass their checksum). `run_loop` sends them where real ones
arrive: customers' questions, the bot's answers that echo them, 👍/👎 comments and
corrections, a lead's typed answers and edits, imported FAQ pairs, and the sources of
an answer (a verified answer approved before scrubbing existed). It then harvests,
curates, exports and asks clean questions from another conversation, and returns every
text a person other than the customer could see. The privacy test asserts none of the
strings is there; `benchmarks/privacy.py` counts them.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from haystack.document_stores.types import DocumentStore
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from finetune_data.curation import decide, edit, store_indexer
from finetune_data.datasets import export
from finetune_data.harvest import Embed, harvest
from finetune_data.importing import Record, import_pairs
from knowledge.answering import AnsweringService
from supportbot.db import session_scope
from supportbot.logs import configure_logging
from supportbot.models import (
    Exchange,
    Feedback,
    PairEvent,
    PairKind,
    PairStatus,
    QAPair,
    Rating,
    Surface,
)
from supportbot.settings import Settings


@dataclass(frozen=True)
class Seed:
    kind: str
    value: str  # the personal string that must never be shared
    text: str  # the sentence it arrives in


def _seeds(*rows: tuple[str, str, str]) -> list[Seed]:
    return [Seed(kind, value, text.replace("{}", value)) for kind, value, text in rows]


# In customers' questions (and, for some, echoed in the bot's answer).
QUESTIONS = _seeds(
    ("email", "jane.doe@example.com", "I'm locked out, my login is {}. How do I reset the hub?"),
    ("email", "tom.nowak@gmail.com", "Send the warranty form to {} please, how do I claim?"),
    ("phone", "+44 20 7946 0958", "Call me back on {} about the hub not pairing."),
    ("phone", "020 7946 0018", "My landline is {}; the hub keeps dropping Wi-Fi."),
    ("phone", "+1 415-555-0132", "Text {} when the firmware update is out."),
    ("phone", "0161 496 0754", "Ring {} — how do I change the Wi-Fi network?"),
    ("card", "4111 1111 1111 1111", "I paid with card {} and want a refund for the hub."),
    ("card", "5500-0000-0000-0004", "Charge my card {} for the extended warranty."),
    ("iban", "GB82 WEST 1234 5698 7654 32", "Refund to IBAN {} please."),
    ("iban", "DE89 3704 0044 0532 0130 00", "My IBAN is {}, how long does a refund take?"),
    ("ip", "81.2.69.142", "My public IP is {} and the hub can't reach the cloud."),
    ("ip", "2a03:2880:f10c:83:face:b00c:0:25de", "Over IPv6 ({}) the app times out."),
    ("mac", "00:1A:2B:3C:4D:5E", "The hub's MAC is {}, is it on a blocklist?"),
    ("aws", "AKIA2OGYBAH6RZQ4XKVM", "Our integration uses key {} — why does the webhook fail?"),
    (
        "aws-secret",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYZQ4XKVMABC",
        "aws secret access key = {} is set, still failing",
    ),
    (
        "github",
        "ghp_8f3kD9sLq2Wm4Xz7Vb1Nc6Ty0Ru5Ea3Hj2Gk",
        "I pasted token {} into the automation, how do I rotate it?",
    ),
    ("slack", "xoxb-2048-1234567890-AbCdEfGhIjKlMnOp", "Our Slack bot token {} stopped working."),
    ("openai", "sk-proj-Zx81LmQp44RtVv90KsYw", "Can the hub use my key {} for voice?"),
    ("address", "221B Baker Street", "Ship the replacement to {}, London NW1 6XE."),
    ("address", "742 Evergreen Terrace", "I live at 742 Evergreen Terrace, Springfield. Delivery?"),
    ("dob", "14/03/1985", "I was born on {}, can I register the warranty?"),
    ("ssn", "536-90-4399", "They asked for my SSN: {}. Is that normal for a claim?"),
    ("ni", "JG 10 37 42 A", "My NI number is {}, do you need it for the invoice?"),
    ("password", "Sunshine2024", "my wifi password is {}! and the hub won't join."),
    ("name", "Priya Patel", "My name is {} and the motion sensor won't pair."),
    ("name", "Tomasz Nowak", "I'm {}, the hub's status light is red."),
    ("mention", "<@U024BE7LH>", "{} said the hub can't be mounted on a wall, true?"),
)
# In 👍/👎 comments and in corrections people type.
FEEDBACK = _seeds(
    ("email", "p.patel@outlook.co.uk", "Wrong - email {} for the right steps."),
    ("phone", "+49 30 901820", "Hold it 10 seconds. Call {} if it still fails."),
    ("card", "4012 8888 8888 1881", "Refunds go back to the card, e.g. {}."),
    ("ip", "185.199.108.153", "Allow the hub's traffic to {} on the firewall."),
    ("gitlab", "glpat-xY7zQ2mN9pL4kR8sT1vW", "Use a token like {} in the integration settings."),
    ("password", "hunter2-Blue", "Set the admin password: {} then restart."),
    ("name", "Maria Lopez", "Hold Reset for 10 seconds.\nThanks, {}"),
    ("dob", "1990-07-22", "DOB: {} is what I gave, still not accepted."),
    ("mac", "a4-83-e7-12-9f-0c", "Whitelist MAC {} on the router first."),
    ("token", "9fK2xQ7mZ4pL8vR1sT6wY3bN5cH0jD2e", "Paste api key {} in Settings > Integrations."),
)
# Typed by support leads while curating.
LEAD_TEXT = _seeds(
    ("email", "support.lead.anna@gmail.com", "Email {} with the serial number."),
    ("phone", "07700 900123", "Call our engineer on {} for a site visit."),
    ("name", "Aisha Bello", "Open Settings > Wi-Fi. My colleague {} can help further."),
    ("address", "1600 Pennsylvania Avenue", "Return it to {}, Washington, DC 20500."),
    ("card", "3782 822463 10005", "The refund went to card {}."),
    ("iban", "FR14 2004 1010 0505 0001 3M02 606", "Pay the fee to IBAN {}."),
    ("ssn", "457-55-5462", "SSN: {} was on the form by mistake; it is not needed."),
    ("password", "Rout3r!Pass", "The default router passcode = {} must be changed."),
    ("ip", "93.184.216.34", "If {} is blocked, the hub cannot update."),
    ("name", "Kenji Watanabe", "Hold Reset 10 seconds.\nRegards,\n{}"),
)
# In FAQ pairs a team imports.
IMPORTED = _seeds(
    ("email", "maria+tv@protonmail.com", "Warranty claims: write to {} with the receipt."),
    ("phone", "+33 1 42 68 53 00", "Our Paris office ({}) handles EU returns."),
    ("card", "6011 1111 1111 1117", "Card {} was declined? Try another card."),
    ("iban", "NL91 ABNA 0417 1643 00", "Bank transfers go to {}."),
    ("ip", "2606:4700:4700::1111", "Use DNS {} if the hub cannot resolve names."),
    ("aws", "AKIAIOSFODNN7SEEDKEY", "The old key {} was revoked."),
    ("github", "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz", "Token {} leaked."),
    ("address", "Hauptstraße 12", "German returns: {}, 10115 Berlin."),
    ("dob", "March 3, 1979", "Date of birth is {} on the warranty card."),
    ("ni", "PX 83 24 11 D", "NI number {} belongs to the account holder."),
    ("name", "Sven Larsson", "Dear {}, the hub supports Zigbee 3.0."),
)
# In the sources an answer was given from: a verified answer approved before scrubbing.
SOURCES = _seeds(
    ("email", "old.customer@yahoo.com", "Q: Refund?\nA: Refunds were sent to {} last time."),
    ("card", "4242-4242-4242-4242", "Q: Which card?\nA: The card on file, {}."),
    ("phone", "+1 (212) 555-0187", "Q: Support line?\nA: The customer gave {}."),
)
CORPUS = QUESTIONS + FEEDBACK + LEAD_TEXT + IMPORTED + SOURCES
# Clean questions another customer asks afterwards.
CLEAN_QUESTIONS = [
    "How do I make a warranty claim?",
    "How do I reset the hub?",
    "How do I get a refund?",
    "The hub won't join Wi-Fi, what should I do?",
    "Who do I call about a site visit?",
]


@dataclass
class Seen:
    """Everything someone other than the customer could see after the loop."""

    exported: str = ""
    verified_answers: str = ""
    other_answers: str = ""
    curated: str = ""  # pairs and their history, as leads and training read them
    logs: str = ""
    exchanges: list[int] = field(default_factory=list)

    def leaks(self, where: str) -> list[Seed]:
        text = getattr(self, where)
        return [seed for seed in CORPUS if seed.value in text]


def run_loop(settings: Settings, engine: Engine, store: DocumentStore, embed: Embed) -> Seen:
    logs = io.StringIO()
    configure_logging(level="DEBUG", fmt="json", stream=logs)
    index = store_indexer(settings, store)
    seen = Seen()
    seen.exchanges = _ask_and_rate(engine)
    harvest(engine, embed)
    _curate(engine, index)
    import_pairs(
        engine,
        [
            Record(n, f"Imported question {n}: {seed.text}", seed.text)
            for n, seed in enumerate(IMPORTED, 1)
        ],
        "cli:lead",
        approve=True,
        index=index,
    )
    result = export(engine, settings.resolved_data_dir, embed)
    folder = result.manifest_path.parent
    seen.exported = "\n".join(p.read_text(encoding="utf-8") for p in sorted(folder.iterdir()))
    verified = store.filter_documents(
        {"field": "meta.kind", "operator": "==", "value": "verified_answer"}
    )
    seen.verified_answers = "\n".join(d.content or "" for d in verified)
    answering = AnsweringService(settings, store)
    replies = [answering.answer(q) for q in CLEAN_QUESTIONS]
    seen.other_answers = json.dumps(
        [{"text": r.text, "context": r.context, "citations": str(r.citations)} for r in replies]
    )
    with Session(engine) as session:
        pairs = session.exec(select(QAPair)).all()
        events = session.exec(select(PairEvent)).all()
        seen.curated = json.dumps(
            [p.model_dump(mode="json") for p in pairs] + [e.model_dump(mode="json") for e in events]
        )
    configure_logging(level="WARNING")
    seen.logs = logs.getvalue()
    return seen


def _ask_and_rate(engine: Engine) -> list[int]:
    """Each customer asks once; half the answers echo what they typed (as a careless
    model would) and are rated 👍, the rest get 👎 with comments and corrections."""
    sources = [
        {"title": "Verified answer", "section": "Verified answer", "date": None, "text": s.text}
        for s in SOURCES
    ] + [{"title": "Manual", "section": "Reset", "date": None, "text": "Hold Reset 10 seconds."}]
    ids = []
    for number, seed in enumerate(QUESTIONS):
        echo = number % 2 == 0
        feedback = FEEDBACK[number % len(FEEDBACK)]
        rating = (
            Feedback(user_id="U9", rating=Rating.UP)
            if echo
            else Feedback(
                user_id=f"U{number:04d}",
                rating=Rating.DOWN,
                reason=f"Not helpful. {feedback.text}",
                correction=feedback.text,
            )
        )
        exchange = Exchange(
            surface=Surface.WEB if number % 3 else Surface.SLACK,
            conversation_id=f"customer-{number}",
            user_id=f"U{number:04d}",
            question=seed.text,
            answer=(f"Noted ({seed.value}). " if echo else "") + "Hold Reset 10 seconds [4].",
            context=sources,
            model_id="live-model",
            answer_mode="generated",
        )
        ids.append(_store(engine, exchange, rating))
    # The feedback strings not used above arrive as leads' corrections on unanswered ones.
    used = {number % len(FEEDBACK) for number in range(len(QUESTIONS)) if number % 2}
    for number, feedback in enumerate(FEEDBACK):
        if number in used:
            continue
        exchange = Exchange(
            surface=Surface.WEB,
            conversation_id=f"feedback-{number}",
            question=f"Question {number} about the hub firmware version {number}?",
            answer="I could not find this.",
            answer_mode="abstained",
            abstained=True,
        )
        rating = Feedback(
            user_id="ULEAD", rating=Rating.DOWN, correction=feedback.text, from_lead=True
        )
        ids.append(_store(engine, exchange, rating))
    return ids


def _store(engine: Engine, exchange: Exchange, rating: Feedback) -> int:
    with session_scope(engine) as session:
        session.add(exchange)
        session.flush()
        rating.exchange_id = exchange.id or 0
        session.add(rating)
        return exchange.id or 0


def _curate(engine: Engine, index: Any) -> None:
    """Leads approve every pair; some with answers they type, some after edits."""
    with Session(engine) as session:
        pairs = session.exec(select(QAPair).where(QAPair.status == PairStatus.CANDIDATE)).all()
    typed = iter(LEAD_TEXT)
    for number, pair in enumerate(pairs):
        lead_text = next(typed, None)
        if pair.kind == PairKind.GAP or (lead_text and number % 2 == 0):
            answer = lead_text.text if lead_text else "Hold Reset for 10 seconds."
            decide(engine, pair.id or 0, PairStatus.APPROVED, "web:lead", index, answer=answer)
        elif lead_text:
            edit(engine, pair.id or 0, "slack:ULEAD", index, answer=lead_text.text)
            decide(engine, pair.id or 0, PairStatus.APPROVED, "slack:ULEAD", index)
        else:
            decide(engine, pair.id or 0, PairStatus.APPROVED, "cli:lead", index)


def corpus_size() -> int:
    return len({seed.value for seed in CORPUS})


def write_corpus_file(path: Path) -> None:
    """The corpus as JSON (kinds and values), for reading what the benchmark seeded."""
    path.write_text(json.dumps([seed.__dict__ for seed in CORPUS], indent=2), encoding="utf-8")
