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
