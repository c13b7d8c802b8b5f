"""Whether an activity read from a file is a run to store: what the runner and the
export's list add to it, its values checked (:func:`agent.files.activity.validated`), and
the judgement of what is not a run a person could have made."""

from __future__ import annotations

from array import array
from dataclasses import replace

from agent.files.activity import (
    EARLIEST_START,
    Activity,
    ActivityFileError,
    NotARunError,
    validated,
)
from agent.files.batch import LIST_NAME, Input
from agent.files.outcome import ImportOptions
from agent.files.sports import Sport, classify
from agent.units import MAX_AVG_SPEED, MAX_RUN_M, MAX_RUN_S, format_distance, format_duration

# An activity whose file names no sport is judged by its speed: above these, it is a ride or
# a drive. Training runs stay far below 20 km/h on average, and a quarter of a run's points
# above 22 km/h is no run anyone trains.
UNTYPED_MAX_AVG_KMH = 20.0
UNTYPED_MAX_Q3_KMH = 22.0
UNTYPED_MIN_POINTS = 30
# Whatever the file or the runner says, nobody runs faster than this on average: the 5 km
# world record is 23.8 km/h. A "run" above it is a ride or a drive labelled as a run.
RUN_MAX_AVG_KMH = 24.0
# An hour or more at under 3 km/h of moving time is not running (a brisk walk is 5 km/h): a
# watch left running all day, or a distance in the wrong unit.
SLOW_MIN_S = 3600.0
SLOW_MAX_KMH = 3.0


def prepared(activity: Activity, item: Input, options: ImportOptions, *, several: bool) -> Activity:
    """The activity with what the runner and the export's list add, then validated."""
    if activity.clock_unset:
        if options.at is None:
            raise ActivityFileError(
                "the device's clock was never set, so the file has no date: import it alone "
                "with --at 'YYYY-MM-DD HH:MM' (when the run started)"
            )
        if options.dated and options.dated != [item.label]:
            raise ActivityFileError(
                f"--at gave its start to {options.dated[0]} already: import files without a "
                "date one at a time"
            )
        options.dated[:] = [item.label]
        activity = activity.shifted_to(options.at)
    elif options.at is not None:
        activity = activity.with_warning("the file has its own date: --at not used")
    row = item.row
    if row is not None:
        activity = replace(activity, name=activity.name or row.name)
        listed = classify(row.sport)
        if listed.is_run is not None and listed.is_run != activity.sport.is_run:
            if activity.sport.is_run is not None and activity.sport.name != "other":
                # The list is what the runner set in Strava later: a ride corrected to a run.
                activity = activity.with_warning(
                    f"{LIST_NAME} calls it a {row.sport}; the file says {activity.sport.name}"
                )
                listed = Sport(f"{listed.name} (as {LIST_NAME} says)", listed.is_run)
            activity = replace(activity, sport=listed)
    if options.sport == "run" and not several and activity.sport.is_run is not True:
        was = activity.sport.name
        activity = replace(activity, sport=classify("running"))
        activity = activity.with_warning(f"taken as a run (--sport run; the file says {was})")
    earliest = options.window.earliest if options.window is not None else EARLIEST_START
    activity = validated(activity, options.now, earliest=earliest)
    if activity.sport.is_run is None:
        check_speed(activity)
        activity = activity.with_warning("no sport in the file: taken as a run")
    return activity


def check_is_run(activity: Activity, *, several: bool) -> None:
    """Raise :class:`NotARunError` for what is not a run a person could have made."""
    sport = activity.sport
    kind = "leg" if activity.leg and activity.leg.startswith("leg") else "activity"
    if sport.is_run is False:
        raise NotARunError(f"{sport.name} {kind}, not a run")
    if activity.elapsed_s <= 0 and activity.moving_s <= 0:
        raise NotARunError("no duration (a single point?): not a run")
    if activity.distance_m <= 0:
        raise NotARunError("no distance in the file: nothing to count as a run")
    if activity.distance_m > MAX_RUN_M or activity.elapsed_s > MAX_RUN_S:
        raise NotARunError("longer than any single run: not imported")
    seconds = activity.moving_s or activity.elapsed_s
    speed = activity.distance_m / seconds * 3.6
    if speed > RUN_MAX_AVG_KMH or activity.distance_m / seconds > MAX_AVG_SPEED:
        raise NotARunError(
            f"average {speed:.0f} km/h is faster than anyone runs: a ride or a drive, not a run"
        )
    if seconds >= SLOW_MIN_S and speed < SLOW_MAX_KMH:
        raise NotARunError(
            f"{format_distance(activity.distance_m, 'km', 2)} in {format_duration(seconds)} "
            f"({speed:.1f} km/h) is no run: a watch left running, or a wrong unit?"
        )


def check_speed(activity: Activity) -> None:
    """An activity of no named sport moving at cycling or driving speed is not a run."""
    average = activity.distance_m / activity.moving_s * 3.6 if activity.moving_s > 0 else 0.0
    # Held as an array (8 bytes a sample) until sorted: a long track has millions.
    speeds = array("d", (s[2] * 3.6 for s in activity.samples if s[2] is not None and s[2] > 0))
    q3 = sorted(speeds)[len(speeds) * 3 // 4] if len(speeds) >= UNTYPED_MIN_POINTS else 0.0
    if average > UNTYPED_MAX_AVG_KMH or q3 > UNTYPED_MAX_Q3_KMH:
        hint = (
            " (import it alone with --sport run if it was one)"
            if average <= RUN_MAX_AVG_KMH
            else ""
        )
        raise NotARunError(
            f"no sport in the file, and it moves at {average:.0f} km/h on average "
            f"({q3:.0f} km/h or more a quarter of the time), like a ride or a drive: "
            f"not a run{hint}"
        )
