"""The train/validation split: deterministic per pair, about the share asked for."""

from __future__ import annotations

from finetune_data.datasets import VALIDATION_SHARE, in_validation


def test_a_pair_stays_on_its_side_whatever_else_is_exported() -> None:
    first = [in_validation(pair_id) for pair_id in range(1, 500)]
    again = [in_validation(pair_id) for pair_id in range(1, 500)]
    assert first == again


def test_the_validation_share_is_close_to_the_setting() -> None:
    ids = range(1, 5001)
    share = sum(in_validation(pair_id) for pair_id in ids) / len(ids)
    assert abs(share - VALIDATION_SHARE) < 0.02
    assert abs(sum(in_validation(i, share=0.3) for i in ids) / len(ids) - 0.3) < 0.03


def test_no_share_means_no_validation_and_a_whole_share_means_all() -> None:
    assert not any(in_validation(pair_id, share=0.0) for pair_id in range(1, 200))
    assert all(in_validation(pair_id, share=1.0) for pair_id in range(1, 200))


def test_a_larger_share_only_adds_pairs_to_validation() -> None:
    """Raising the share never moves a validation pair back into training."""
    for pair_id in range(1, 1000):
        if in_validation(pair_id, share=0.1):
            assert in_validation(pair_id, share=0.2)
