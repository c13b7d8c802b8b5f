"""Properties of the recorder's accumulators on arbitrary (even absurd) sensor streams."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from agent.config import Settings
from agent.recording.recorder import Odometer, Recorder
from agent.sensors.base import Connected, Disconnected, Measurement, SensorEvent
from agent.sensors.gatt import HeartRateMeasurement, RSCMeasurement

POD = "C0:FF:EE:00:00:01"
STRAP = "C0:FF:EE:00:00:02"

step = st.tuples(
    st.sampled_from(["rsc", "rsc", "rsc", "hr", "link"]),
    st.floats(0, 30, allow_nan=False),  # seconds since the previous event
    st.floats(0, 8, allow_nan=False),  # speed m/s
    st.one_of(st.none(), st.floats(-3000, 3000, allow_nan=False)),  # counter step
    st.integers(0, 230),  # bpm
)


def events(steps: list[tuple[str, float, float, float | None, int]]) -> list[SensorEvent]:
    out: list[SensorEvent] = []
    t, counter = 0.0, 0.0
    for kind, dt, speed, counter_step, bpm in steps:
        t += dt
        if kind == "link":
            out.append(Disconnected(POD, "footpod", t) if bpm % 2 else Connected(POD, "footpod", t))
        elif kind == "hr":
            out.append(Measurement(STRAP, "hrm", t, HeartRateMeasurement(bpm, True, None, ())))
        else:
            total = None
            if counter_step is not None:
                counter = max(0.0, counter + counter_step)
                total = round(counter, 1)
            value = RSCMeasurement(speed, int(speed * 60), None, total, speed > 2)
            out.append(Measurement(POD, "footpod", t, value))
    return out


@settings(max_examples=200, deadline=None)
@given(st.lists(step, max_size=120))
def test_distance_never_decreases_and_moving_never_exceeds_elapsed(
    steps: list[tuple[str, float, float, float | None, int]],
) -> None:
    recorder = Recorder(Settings(), epoch=0.0)
    last: tuple[int, float] | None = None
    for event in events(steps):
        recorder.handle(event)
        run = recorder.active
        if run is not None:
            assert run.distance_m >= 0
            if last is not None and last[0] == run.key:
                assert run.distance_m >= last[1]
            last = (run.key, run.distance_m)
            assert run.moving_s <= run.elapsed_s + 1e-6
        for flush in recorder.take_flushes():
            assert flush.row["distance_m"] >= 0
            assert flush.row["moving_s"] <= flush.row["elapsed_s"] + 1e-6
            times = [s[0] for s in flush.samples]
            assert times == sorted(set(times))


@given(
    st.lists(
        st.tuples(
            st.floats(0, 60, allow_nan=False),
            st.floats(0, 10, allow_nan=False),
            st.one_of(st.none(), st.floats(0, 1e6, allow_nan=False)),
        ),
        max_size=60,
    )
)
def test_odometer_steps_are_bounded(steps: list[tuple[float, float, float | None]]) -> None:
    """Never negative; a counter step never faster than the plausibility limit over its
    interval; metres from speed (a frozen counter's, held a few seconds) never ahead of time."""
    odometer = Odometer(1.0)
    t = span = counted = 0.0
    for dt, speed, total in steps:
        t += dt
        span += max(dt, 1.0)
        metres, covered = odometer.step(t, speed, total)
        counted += metres
        assert metres >= 0
        assert 0 <= covered <= dt + 1e-9
        if not odometer.from_speed:
            assert metres <= 12.0 * max(dt, 1.0) + 1e-6
        assert counted <= 12.0 * span + 1e-6
