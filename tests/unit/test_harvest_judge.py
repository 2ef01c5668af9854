"""What an exchange's ratings make of it: a candidate answer, a knowledge gap or nothing."""

from __future__ import annotations

from finetune_data.harvest import judge
from supportbot.models import Exchange, Feedback, PairKind, PairOrigin, Rating, Surface


def exchange(mode: str = "generated", abstained: bool = False) -> Exchange:
    return Exchange(
        id=1,
        surface=Surface.SLACK,
        question="How do I reset it?",
        answer="Hold the button [1].",
        answer_mode=mode,
        abstained=abstained,
    )


def rating(id: int, value: Rating, **fields: object) -> Feedback:
    return Feedback(id=id, exchange_id=1, user_id=f"U{id}", rating=value, **fields)


def test_more_thumbs_up_than_down_on_a_generated_answer_makes_a_candidate() -> None:
    verdict = judge(
        exchange(), [rating(1, Rating.UP), rating(2, Rating.UP), rating(3, Rating.DOWN)]
    )
    assert verdict is not None
    assert (verdict.kind, verdict.origin) == (PairKind.ANSWER, PairOrigin.THUMBS_UP)
    assert verdict.answer == "Hold the button [1]."


def test_a_thumbs_down_without_a_correction_is_a_knowledge_gap() -> None:
    verdict = judge(exchange(), [rating(1, Rating.DOWN, reason="wrong model")])
    assert verdict is not None
    assert (verdict.kind, verdict.origin, verdict.answer) == (
        PairKind.GAP,
        PairOrigin.THUMBS_DOWN,
        "",
    )
    assert verdict.comment == "wrong model"


def test_a_tie_is_a_gap_and_no_ratings_teach_nothing() -> None:
    tie = judge(exchange(), [rating(1, Rating.UP), rating(2, Rating.DOWN)])
    assert tie is not None
    assert tie.kind is PairKind.GAP
    assert judge(exchange(), []) is None


def test_praise_for_excerpts_or_an_abstention_teaches_the_model_nothing() -> None:
    """Only generated answers are worth imitating: excerpts and "I don't know" are not."""
    assert judge(exchange(mode="excerpts"), [rating(1, Rating.UP)]) is None
    assert judge(exchange(abstained=True), [rating(1, Rating.UP)]) is None


def test_a_correction_wins_and_a_lead_s_correction_wins_over_a_user_s() -> None:
    ratings = [
        rating(1, Rating.UP),
        rating(2, Rating.DOWN, correction="Hold it for 10 s.", reason="too vague"),
        rating(3, Rating.DOWN, correction="Hold it for 15 s.", from_lead=True),
        rating(4, Rating.DOWN, correction="Unplug it."),
    ]
    verdict = judge(exchange(), ratings)
    assert verdict is not None
    assert (verdict.kind, verdict.origin) == (PairKind.ANSWER, PairOrigin.LEAD_CORRECTION)
    assert verdict.answer == "Hold it for 15 s."
    assert verdict.comment == "too vague"


def test_the_latest_user_correction_is_taken_when_no_lead_corrected() -> None:
    ratings = [
        rating(2, Rating.DOWN, correction="Hold it for 10 s."),
        rating(5, Rating.DOWN, correction="Hold it for 12 s."),
    ]
    verdict = judge(exchange(), ratings)
    assert verdict is not None
    assert (verdict.origin, verdict.answer) == (PairOrigin.USER_CORRECTION, "Hold it for 12 s.")
