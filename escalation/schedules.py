"""Pure on-call schedule logic: rotation layers, restrictions, overrides and the final schedule.

No database access here: the caller loads a schedule and passes plain values in. Every
handoff follows LOCAL wall-clock time in the schedule's time zone, so across a daylight-saving
change a daily shift lasts 23 or 25 hours. All arithmetic happens on UTC instants; local times
are only ever turned into instants by `wall_clock_to_utc`.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings

Interval = tuple[datetime, datetime]


@dataclass(frozen=True)
class Layer:
    start_date: date  # local date of the first handoff
    handoff_time: time  # local wall-clock time of every handoff
    shift_days: int  # 1 = daily rotation, 7 = weekly, N = custom length in days (>= 1)
    participants: tuple[int, ...]  # user ids, in rotation order
    position: int = 0  # higher position wins where layers overlap
    # Optional restriction: active only in windows that START on one of these weekdays (0=Mon) at
    # `active_from` and end at `active_until` (on the next day when until <= from, e.g. a night
    # layer 18:00-08:00). A missing time means midnight. All three None = always active.
    active_weekdays: tuple[int, ...] | None = None
    active_from: time | None = None
    active_until: time | None = None

    def __post_init__(self) -> None:
        if self.shift_days < 1:
            raise ValueError("shift_days must be at least 1")
        for t in (self.handoff_time, self.active_from, self.active_until):
            if t is not None and t.tzinfo is not None:
                raise ValueError("layer times are local wall-clock times and must be naive")
        if self.active_weekdays is not None and not all(
            0 <= day <= 6 for day in self.active_weekdays
        ):
            raise ValueError("active_weekdays must be between 0 (Monday) and 6 (Sunday)")

    @property
    def is_restricted(self) -> bool:
        return (
            self.active_weekdays is not None
            or self.active_from is not None
            or self.active_until is not None
        )


@dataclass(frozen=True)
class Override:
    user_id: int
    start: datetime  # aware
    end: datetime  # aware, exclusive

    def __post_init__(self) -> None:
        _require_aware(self.start, "Override.start")
        _require_aware(self.end, "Override.end")


@dataclass(frozen=True)
class ScheduleSpec:
    time_zone: str = "Europe/Berlin"
    layers: tuple[Layer, ...] = ()
    overrides: tuple[Override, ...] = ()


@dataclass(frozen=True)
class Shift:
    user_id: int
    start: datetime  # aware UTC
    end: datetime  # aware UTC, exclusive
    source: str  # "layer:<position>" or "override"


# --- local wall-clock time -> UTC instant ------------------------------------------------------


def _require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime, got naive {value!r}")


def _to_utc(value: datetime, name: str = "datetime") -> datetime:
    _require_aware(value, name)
    return value.astimezone(UTC)


def _local_naive(instant: datetime, tz: ZoneInfo) -> datetime:
    return instant.astimezone(tz).replace(tzinfo=None)


@lru_cache(maxsize=8192)
def wall_clock_to_utc(time_zone: str, local: datetime) -> datetime:
    """The UTC instant of a naive local wall-clock time in `time_zone`.

    A time that does not exist (spring-forward gap) maps to the first instant after the gap; an
    ambiguous one (fall-back overlap) maps to its first occurrence (fold=0).
    """
    if local.tzinfo is not None:
        raise ValueError("wall_clock_to_utc expects a naive local datetime")
    tz = ZoneInfo(time_zone)
    local = local.replace(fold=0)
    first = local.replace(tzinfo=tz).astimezone(UTC)
    if _local_naive(first, tz) == local:
        return first
    # In a gap: fold=0 reads the time with the offset before the gap (an instant after it), fold=1
    # with the offset after it (an instant before it). The transition lies in between; find the
    # first instant whose local time is at or past `local`, to the second (offsets are whole
    # seconds in the tz database).
    before = local.replace(fold=1, tzinfo=tz).astimezone(UTC)
    lo, hi = min(before, first), max(before, first)  # local(lo) < local <= local(hi)
    lo = lo.replace(microsecond=0)
    if hi.microsecond:
        hi = hi.replace(microsecond=0) + timedelta(seconds=1)
    while hi - lo > timedelta(seconds=1):
        mid = lo + timedelta(seconds=(hi - lo) // timedelta(seconds=2))
        if _local_naive(mid, tz) >= local:
            hi = mid
        else:
            lo = mid
    return hi


# --- one layer ---------------------------------------------------------------------------------


def _handoff(layer: Layer, time_zone: str, k: int) -> datetime:
    day = layer.start_date + timedelta(days=k * layer.shift_days)
    return wall_clock_to_utc(time_zone, datetime.combine(day, layer.handoff_time))


def _shift_index(layer: Layer, time_zone: str, at: datetime) -> int:
    """k with handoff(k) <= at < handoff(k + 1), or -1 before the first handoff."""
    if at < _handoff(layer, time_zone, 0):
        return -1
    local_day = at.astimezone(ZoneInfo(time_zone)).date()
    k = max((local_day - layer.start_date).days // layer.shift_days, 0)
    while k > 0 and _handoff(layer, time_zone, k) > at:
        k -= 1
    while _handoff(layer, time_zone, k + 1) <= at:
        k += 1
    return k


def _window(layer: Layer, time_zone: str, day: date) -> Interval:
    """The restriction window that starts on local `day` (the caller checks the weekday)."""
    start_time = layer.active_from or time(0)
    until_time = layer.active_until or time(0)
    end_day = day + timedelta(days=1) if until_time <= start_time else day
    return (
        wall_clock_to_utc(time_zone, datetime.combine(day, start_time)),
        wall_clock_to_utc(time_zone, datetime.combine(end_day, until_time)),
    )


def _window_active_on(layer: Layer, day: date) -> bool:
    return layer.active_weekdays is None or day.weekday() in layer.active_weekdays


def _is_active(layer: Layer, time_zone: str, at: datetime) -> bool:
    if not layer.is_restricted:
        return True
    local_day = at.astimezone(ZoneInfo(time_zone)).date()
    for day in (local_day - timedelta(days=2), local_day - timedelta(days=1), local_day):
        if _window_active_on(layer, day):
            window_start, window_end = _window(layer, time_zone, day)
            if window_start <= at < window_end:
                return True
    return False


def _layer_user_at(layer: Layer, time_zone: str, at: datetime) -> int | None:
    if not layer.participants:
        return None
    k = _shift_index(layer, time_zone, at)
    if k < 0 or not _is_active(layer, time_zone, at):
        return None
    return layer.participants[k % len(layer.participants)]


def _layer_shifts(
    layer: Layer, time_zone: str, start: datetime, end: datetime
) -> Iterator[tuple[datetime, datetime, int]]:
    k = max(_shift_index(layer, time_zone, start), 0)
    shift_start = _handoff(layer, time_zone, k)
    while shift_start < end:
        shift_end = _handoff(layer, time_zone, k + 1)
        if shift_end > start:
            user = layer.participants[k % len(layer.participants)]
            yield max(shift_start, start), min(shift_end, end), user
        k += 1
        shift_start = shift_end


def _layer_windows(layer: Layer, time_zone: str, start: datetime, end: datetime) -> list[Interval]:
    tz = ZoneInfo(time_zone)
    day = start.astimezone(tz).date() - timedelta(days=2)
    last_day = end.astimezone(tz).date()
    windows: list[Interval] = []
    while day <= last_day:
        if _window_active_on(layer, day):
            window_start, window_end = _window(layer, time_zone, day)
            window_start, window_end = max(window_start, start), min(window_end, end)
            if window_start < window_end:
                if windows and window_start <= windows[-1][1]:
                    windows[-1] = (windows[-1][0], max(windows[-1][1], window_end))
                else:
                    windows.append((window_start, window_end))
        day += timedelta(days=1)
    return windows


def _layer_pieces(
    layer: Layer, time_zone: str, start: datetime, end: datetime
) -> list[tuple[datetime, datetime, int]]:
    """Sorted, non-overlapping (start, end, user) pieces of one layer within [start, end)."""
    if not layer.participants:
        return []
    shifts = list(_layer_shifts(layer, time_zone, start, end))
    if not layer.is_restricted:
        return shifts
    pieces = []
    windows = _layer_windows(layer, time_zone, start, end)
    i = j = 0
    while i < len(shifts) and j < len(windows):
        shift_start, shift_end, user = shifts[i]
        window_start, window_end = windows[j]
        piece_start, piece_end = max(shift_start, window_start), min(shift_end, window_end)
        if piece_start < piece_end:
            pieces.append((piece_start, piece_end, user))
        if shift_end <= window_end:
            i += 1
        else:
            j += 1
    return pieces


# --- the final schedule ------------------------------------------------------------------------


def _layers_by_priority(schedule: ScheduleSpec) -> list[Layer]:
    # Higher position first; between equal positions the layer listed later wins.
    indexed = sorted(enumerate(schedule.layers), key=lambda item: (item[1].position, item[0]))
    return [layer for _, layer in reversed(indexed)]


def who_is_on_call(schedule: ScheduleSpec, at: datetime) -> int | None:
    """The user on call at `at`, or None.

    An active override wins (the one listed last, where overrides overlap); else the highest layer
    covering `at` (the one listed last, between layers of equal position).
    """
    at = _to_utc(at, "at")
    for override in reversed(schedule.overrides):
        if override.start.astimezone(UTC) <= at < override.end.astimezone(UTC):
            return override.user_id
    for layer in _layers_by_priority(schedule):
        user = _layer_user_at(layer, schedule.time_zone, at)
        if user is not None:
            return user
    return None


def shifts_between(schedule: ScheduleSpec, start: datetime, end: datetime) -> list[Shift]:
    """The effective schedule within [start, end): overrides > higher layers > lower layers.

    Consecutive pieces with the same user are merged into one shift (keeping the source of the first
    piece); times where nobody is on call are left out. Sorted, clipped to [start, end), UTC.
    """
    start, end = _to_utc(start, "start"), _to_utc(end, "end")
    if end <= start:
        return []
    # Sources in priority order, each a sorted list of non-overlapping (start, end, user) pieces.
    sources: list[tuple[str, list[tuple[datetime, datetime, int]]]] = []
    for override in reversed(schedule.overrides):
        piece_start = max(override.start.astimezone(UTC), start)
        piece_end = min(override.end.astimezone(UTC), end)
        if piece_start < piece_end:
            sources.append(("override", [(piece_start, piece_end, override.user_id)]))
    for layer in _layers_by_priority(schedule):
        pieces = _layer_pieces(layer, schedule.time_zone, start, end)
        if pieces:
            sources.append((f"layer:{layer.position}", pieces))

    boundaries = sorted(
        {start, end}
        | {instant for _, pieces in sources for piece in pieces for instant in piece[:2]}
    )
    cursors = [0] * len(sources)
    shifts: list[Shift] = []
    for piece_start, piece_end in zip(boundaries, boundaries[1:], strict=False):
        winner: tuple[str, int] | None = None
        for index, (label, pieces) in enumerate(sources):
            while cursors[index] < len(pieces) and pieces[cursors[index]][1] <= piece_start:
                cursors[index] += 1
            if cursors[index] < len(pieces) and pieces[cursors[index]][0] <= piece_start:
                winner = (label, pieces[cursors[index]][2])
                break
        if winner is None:
            continue
        label, user = winner
        last = shifts[-1] if shifts else None
        if last is not None and last.user_id == user and last.end == piece_start:
            shifts[-1] = Shift(user, last.start, piece_end, last.source)
        else:
            shifts.append(Shift(user, piece_start, piece_end, label))
    return shifts


def next_shift(schedule: ScheduleSpec, at: datetime, horizon_days: int = 60) -> Shift | None:
    """The first effective shift starting after `at` whose user differs from who is on call at `at`.

    Looks up to `horizon_days` ahead for its start; its end is cut off `horizon_days` after its
    start.
    """
    at = _to_utc(at, "at")
    horizon = timedelta(days=horizon_days)
    current = who_is_on_call(schedule, at)
    for shift in shifts_between(schedule, at, at + horizon):
        if shift.start > at and shift.user_id != current:
            return shifts_between(schedule, shift.start, shift.start + horizon)[0]
    return None


# --- Months (the SLA report's and the live exposure's month) ---------------------------------


class InvalidMonth(ValueError):
    """Year/month do not name a calendar month."""


def zone_of(customer) -> str:
    """The customer's time zone, or ours if theirs is unknown."""
    try:
        ZoneInfo(customer.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        return settings.TIME_ZONE
    return customer.time_zone


def month_bounds(time_zone: str, year: int, month: int) -> tuple[datetime, datetime]:
    """[start, end) of the month in `time_zone`, as aware UTC instants; InvalidMonth if none."""
    try:
        first = datetime(year, month, 1)  # noqa: DTZ001 (a wall-clock time, made aware below)
        following = datetime(year + month // 12, month % 12 + 1, 1)  # noqa: DTZ001
        return wall_clock_to_utc(time_zone, first), wall_clock_to_utc(time_zone, following)
    except (ValueError, OverflowError, TypeError) as exc:
        raise InvalidMonth(f"no such month: {year}-{month}") from exc


def shifts_for_feed(
    schedule: ScheduleSpec, start: datetime, end: datetime, *, limit_days: int = 400
) -> list[Shift]:
    """The shifts overlapping [start, end), the first one NOT clipped at `start`: a feed whose
    window moves with the clock must give a shift the same start (and so the same UID) on every
    fetch. The window is widened backwards (doubling, up to `limit_days`) until the first shift
    starts after its edge, i.e. where it really begins."""
    start, end = _to_utc(start, "start"), _to_utc(end, "end")
    back = timedelta(days=7)
    while True:
        edge = start - back
        shifts = shifts_between(schedule, edge, end)
        if not shifts or shifts[0].start > edge or back >= timedelta(days=limit_days):
            break
        back = min(back * 2, timedelta(days=limit_days))
    return [s for s in shifts if s.end > start]
