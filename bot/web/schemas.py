"""The web chat API's request and response shapes, and the checks on their fields."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field, StringConstraints, field_validator

from knowledge.answering import MAX_QUESTION_CHARS, Citation, Turn
from knowledge.scope import Scope
from supportbot.models import MAX_ID, Rating

MAX_BODY_BYTES = 64 * 1024
WEB_CHANNEL = "web"
WHICH_PRODUCT = "Which product is this about?"
CONVERSATION_PATTERN = r"^web-[0-9a-f]{32}$"

EMAIL = re.compile(r"[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+")


def no_lone_surrogates(text: str) -> str:
    """JSON may carry "\\ud800"; such text cannot be stored or logged as UTF-8."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("text must be valid Unicode (no lone surrogates)") from None
    return text


Text = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1), AfterValidator(no_lone_surrogates)
]
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
CleanText = Annotated[str, AfterValidator(no_lone_surrogates)]
ConversationId = Annotated[str, StringConstraints(pattern=CONVERSATION_PATTERN)]


class ChatRequest(BaseModel):
    message: Annotated[Text, StringConstraints(max_length=MAX_QUESTION_CHARS)] = Field(
        description="The question."
    )
    conversation_id: ConversationId | None = Field(
        default=None, description="From an earlier answer, to ask a follow-up with context."
    )
    product: Annotated[CleanText, StringConstraints(max_length=255)] | None = Field(
        default=None, description="Answer only from this product's sources."
    )
    any_product: bool = Field(
        default=False,
        description="The asker chose to search every product: no detection, no question back.",
    )
    language: (
        Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8})*$")] | None
    ) = Field(
        default=None,
        description="The visitor's language (a BCP 47 tag such as de or de-CH): the answer "
        "is asked for in it when it is one answers support.",
    )


class Source(BaseModel):
    number: int
    title: str | None
    section: str | None
    url: str | None
    published_at: str | None = Field(description="Set for dated updates.")
    kind: str | None
    source: str | None
    product: str | None = Field(default=None, description="The product the source documents.")
    excerpt: str

    @classmethod
    def of(cls, citation: Citation) -> Source:
        return cls(
            number=citation.number,
            title=citation.title,
            section=citation.section,
            url=citation.url,
            published_at=citation.published_at,
            kind=citation.kind,
            source=citation.source,
            product=citation.product,
            excerpt=citation.excerpt,
        )

    @classmethod
    def of_stored(cls, source: dict[str, Any]) -> Source:
        """A citation as an exchange stored it."""
        fields = {name: source.get(name) for name in cls.model_fields}
        fields["number"] = int(source.get("number") or 0)
        fields["excerpt"] = str(source.get("excerpt") or "")
        return cls(**fields)


class StopRequest(BaseModel):
    conversation_id: ConversationId


class ChatResponse(BaseModel):
    conversation_id: str | None = Field(
        description="Null only when a clarifying question comes back for a new conversation."
    )
    exchange_id: int | None = Field(description="For feedback; null if it was not stored.")
    answer: str = Field(description="Markdown.")
    answer_html: str = Field(description="The answer rendered to safe HTML.")
    mode: Literal["generated", "excerpts", "abstained", "clarify", "stopped"] = Field(
        description="clarify: several products fit; ask again with one of `choices` as "
        "`product` (or `any_product`). stopped: the asker stopped the answer (the text "
        "is what was written by then)."
    )
    note: str | None
    scope: str | None
    products: list[str] = Field(default_factory=list, description="The products answered for.")
    choices: list[str] = Field(default_factory=list, description="With mode clarify.")
    sources: list[Source]


class PastTurn(BaseModel):
    """One question of a conversation and its answer, as the page shows them again."""

    exchange_id: int
    question: str
    answer: str
    answer_html: str
    mode: str = Field(description="generated, excerpts, abstained or stopped.")
    note: str | None
    products: list[str]
    sources: list[Source]
    rating: Rating | None = Field(description="This conversation's own rating of the answer.")
    escalated: bool
    created_at: str


class ConversationResponse(BaseModel):
    conversation_id: str
    turns: list[PastTurn]


class SuggestionsResponse(BaseModel):
    questions: list[str] = Field(
        description="Starter questions for the product, then the most-asked answered ones."
    )


class ProductsResponse(BaseModel):
    products: list[str] = Field(description="Every product of the knowledge base.")


class FeedbackRequest(BaseModel):
    conversation_id: ConversationId
    exchange_id: Id
    rating: Rating
    comment: (
        Annotated[CleanText, StringConstraints(strip_whitespace=True, max_length=2000)] | None
    ) = None
    correction: (
        Annotated[CleanText, StringConstraints(strip_whitespace=True, max_length=4000)] | None
    ) = None


class HandoffRequest(BaseModel):
    conversation_id: ConversationId
    exchange_id: Id | None = Field(default=None, description="Default: the latest answer.")
    contact: (
        Annotated[CleanText, StringConstraints(strip_whitespace=True, max_length=255)] | None
    ) = Field(
        default=None,
        description="An e-mail address the team can reply to (kept for the team only, never "
        "in training data; it expires with the conversation).",
    )

    @field_validator("contact")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value and not EMAIL.fullmatch(value):
            raise ValueError("contact must be an e-mail address")
        return value or None


@dataclass
class Prepared:
    """A validated question with its conversation, history and scope."""

    text: str
    conversation_id: str
    history: list[Turn]
    scope: Scope
    choices: tuple[str, ...] = ()  # several products fit: ask instead of answering
    new_conversation: bool = False
    language: str | None = None  # answer in it (a name: "German"); None: the question's


class StatusResponse(BaseModel):
    status: str
    message: str
    ticket: str | None = Field(
        default=None, description="A hand-off's ticket reference, when one was opened."
    )
