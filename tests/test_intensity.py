"""Karvonen zones, Banister and Edwards TRIMP, session RPE: against hand-computed values."""

from __future__ import annotations

import math

import pytest

from agent.recording.intensity import HeartProfile, edwards_trimp, session_rpe_load

# max 190, rest 60: reserve 130 beats/min.
HEART = HeartProfile(max_hr=190, resting_hr=60, sex="female")


def test_karvonen_zone_floors() -> None:
    # 50 % HRR = 60 + 65 = 125; 60 % = 138; 70 % = 151; 80 % = 164; 90 % = 177.
    assert [HEART.zone(bpm) for bpm in (124, 125, 137, 138, 151, 164, 176, 177, 200)] == [
        0,
        1,
        1,
        2,
        3,
        4,
        4,
        5,
        5,
    ]
    assert HEART.zone_bounds() == [(125, 137), (138, 150), (151, 163), (164, 176), (177, 190)]


def test_banister_female_by_hand() -> None:
    # 10 min at 151 bpm: HRr = 91/130 = 0.7; 10 x 0.7 x 0.86 x e^(1.67 x 0.7) = 19.377...
    assert HEART.banister(151, 600) == pytest.approx(10 * 0.7 * 0.86 * math.exp(1.169))
    assert HEART.banister(151, 600) == pytest.approx(19.377, abs=0.001)


def test_banister_male_constants() -> None:
    male = HeartProfile(max_hr=190, resting_hr=60, sex="male")
    # 30 min at 60 % HRR (138 bpm): 30 x 0.6 x 0.64 x e^(1.92 x 0.6) = 36.455...
    assert male.banister(138, 1800) == pytest.approx(30 * 0.6 * 0.64 * math.exp(1.152))
    assert male.banister(138, 1800) == pytest.approx(36.455, abs=0.001)


def test_banister_clamps_outside_the_reserve() -> None:
    assert HEART.banister(50, 600) == 0.0
    assert HEART.banister(230, 60) == HEART.banister(190, 60)


def test_edwards_weights_minutes_by_zone() -> None:
    # 10 min below zone 1 (nothing), 5 min in zone 2, 20 min in zone 3, 2 min in zone 5.
    assert edwards_trimp([600, 0, 300, 1200, 0, 120]) == pytest.approx(0 + 10 + 60 + 10)


def test_session_rpe_is_rpe_times_minutes() -> None:
    assert session_rpe_load(4, 2700) == 180
    assert session_rpe_load(None, 2700) is None
