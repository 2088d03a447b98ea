from __future__ import annotations

from binanno.progress import LossProgress


def test_no_estimate_before_enough_updates() -> None:
    progress = LossProgress(min_updates=3)
    assert progress.record(10, 1.0) is None
    assert progress.record(20, 0.9) is None
    assert progress.record(30, 0.8) is not None


def test_a_steeply_falling_loss_is_far_from_converged() -> None:
    progress = LossProgress()
    for n in range(1, 11):
        progress.record(n * 10, 1.0 - n * 0.09)
    assert progress.value is not None and progress.value < 0.2


def test_a_flattening_loss_moves_progress_towards_one() -> None:
    progress = LossProgress(window=5)
    values = []
    for n in range(1, 40):
        values.append(progress.record(n * 10, 0.2 + 0.8 * 0.85**n))
    assert values[5] is not None and values[5] < 0.5
    assert values[-1] is not None and values[-1] > 0.9


def test_noise_around_a_flat_loss_stays_near_one() -> None:
    progress = LossProgress()
    for n in range(1, 30):
        progress.record(n * 10, 0.5 + (0.02 if n % 2 else -0.02))
    assert progress.value is not None and progress.value > 0.8


def test_what_is_shown_never_moves_backwards() -> None:
    progress = LossProgress(window=5, min_updates=3)
    losses = [1.0, 0.9, 0.5, 0.45, 0.44, 0.9, 1.2, 0.44, 0.43, 0.43, 0.43]  # a hard stretch in the middle
    shown = [v for v in (progress.record(n * 10, loss) for n, loss in enumerate(losses, 1)) if v is not None]
    assert shown == sorted(shown)
    assert progress.estimate is not None and progress.estimate < shown[-1]  # the raw estimate did fall
