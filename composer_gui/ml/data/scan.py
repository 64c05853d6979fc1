"""Scan a folder of MIDI files against a base model before fine-tuning (numpy only).

For every file the scan says whether training can use it and, if not, why (unreadable or
corrupt, no notes, no melody-like track, no track for a role, unsupported meter, too
short); for a usable file it gives the melody track, the track taken for each of the
model's roles, the meters and the number of bars. The window shows the result, lets the
user change the melody or a role per file (:func:`assess` re-judges a file from its
track summaries without reading it again) and writes the choices as the mapping file
the training command reads (:func:`write_mapping`, ``train --mapping``).

The rules follow :mod:`composer_gui.ml.data.dataset` (melody: role, then name alias, then the
highest mostly-monophonic track; roles: role, alias, drum channel, register; every bar's
meter must be one the model knows), with two stricter checks: a file whose tracks are all
chordal has "no melody-like track" (training would take a chordal track as melody), and a
file needs :data:`MIN_BARS` bars and :data:`MIN_MELODY_NOTES` melody notes. As in
training, a base model with a ``min_grid_share`` (pop: 95%) refuses a file whose melody
and parts have fewer of their note starts exactly on its grid (a played, unquantized take).

Speed (``benchmarks/bench_scan.py``): the scan reads only what it needs. A POP909 song is
not re-timed and rebuilt note by note as training does (``sources.load_pop909_song``,
~20 ms): its beat annotation gives the bars, and its four parts (Melody, Bass, Piano,
Strings, the order training sees) are summarised from the raw tracks, with the same
Bass/Piano split rule run on arrays (tests check both paths agree). Nothing here imports
torch or Qt.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from composer_gui.core.errors import UserError
from composer_gui.core.song import Event, Note, Song
from composer_gui.ml.data.dataset import MIDI_SUFFIXES, is_validation, off_grid_reason
from composer_gui.ml.errors import DataError
from composer_gui.ml.model.config import ModelConfig

MAPPING_VERSION = 1
#: At most this share of note starts may overlap another note of a melody-like track.
MONO_OVERLAP = 0.25
MIN_BARS = 2
MIN_MELODY_NOTES = 8
#: Scans of at least this many files use several processes; files per task.
PARALLEL_FROM = 200
CHUNK = 25

#: Reason categories (the first words of every skip reason), for the summary.
UNREADABLE = "unreadable"
NO_NOTES = "no notes"
NO_MELODY = "no melody-like track"
NO_ROLE = "no track for role"
BAD_METER = "unsupported meter"
TOO_SHORT = "too short"
OFF_GRID = "off the grid"  # ml.data.dataset.off_grid_reason's first words

Progress = Callable[[int, int, str], None]


@dataclass
class TrackInfo:
    """What the scan keeps of one track (enough to re-assign melody and roles)."""

    index: int
    name: str
    role: str
    program: int
    channel: int
    is_drum: bool
    notes: int
    mean_pitch: float
    overlap: float  # share of note starts inside another note of the track
    #: note starts exactly on the model's grid (training skips a song whose melody and
    #: parts have under ``config.min_grid_share`` of their starts on it)
    on_grid: int = 0

    @property
    def label(self) -> str:
        return f"{self.index}: {self.name or 'Track ' + str(self.index + 1)}"


@dataclass
class FileScan:
    """One file's verdict and what was found in it."""

    path: str
    usable: bool = False
    reason: str = ""
    tracks: list[TrackInfo] = field(default_factory=list)
    melody: int | None = None
    roles: dict[str, int | None] = field(default_factory=dict)
    meters: list[str] = field(default_factory=list)
    bars: int = 0
    #: bars whose meter the model does not know
    bad_meters: list[str] = field(default_factory=list)
    validation: bool = False
    #: whether the melody / a role was chosen by the user (else automatic)
    melody_set: bool = False
    roles_set: dict[str, bool] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return Path(self.path).name

    @property
    def category(self) -> str:
        """The reason's category (one of the module constants), '' when usable."""
        for cat in (UNREADABLE, NO_NOTES, NO_MELODY, NO_ROLE, BAD_METER, TOO_SHORT, OFF_GRID):
            if self.reason.startswith(cat):
                return cat
        return self.reason.split(":")[0] if self.reason else ""

    def to_dict(self) -> dict:
        data = asdict(self)
        data["category"] = self.category
        return data


@dataclass
class ScanResult:
    """All files of a scan, in order, and the model they were judged against."""

    files: list[FileScan]
    role_names: list[str]
    cancelled: bool = False

    @property
    def usable(self) -> list[FileScan]:
        return [f for f in self.files if f.usable]

    @property
    def skipped(self) -> list[FileScan]:
        return [f for f in self.files if not f.usable]

    def summary(self) -> dict:
        """Counts for the window: files, usable, skipped by reason, songs per split,
        bars and meters of the usable files."""
        usable = self.usable
        meters: Counter = Counter()
        for f in usable:
            meters.update(f.meters)
        return {
            "files": len(self.files),
            "usable": len(usable),
            "skipped": len(self.files) - len(usable),
            "reasons": dict(Counter(f.category for f in self.skipped).most_common()),
            "train_songs": sum(not f.validation for f in usable),
            "validation_songs": sum(f.validation for f in usable),
            "bars": sum(f.bars for f in usable),
            "meters": dict(meters.most_common()),
            "cancelled": self.cancelled,
        }

    def mapping(self) -> dict:
        """The ``--mapping`` document of the training command (see FT_PROTOCOL)."""
        files = {}
        for f in self.files:
            entry: dict = {"skip": not f.usable}
            if f.usable:
                entry["melody"] = f.melody
                entry["roles"] = dict(f.roles)
            files[str(Path(f.path).resolve())] = entry
        return {"version": MAPPING_VERSION, "files": files}


def write_mapping(result: ScanResult, path: str | Path) -> Path:
    """Write :meth:`ScanResult.mapping` as JSON (atomically) and return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(result.mapping(), indent=1) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


# ----- listing -----------------------------------------------------------------------
def list_midi_files(sources: str | Path | Iterable[str | Path]) -> list[Path]:
    """MIDI files of a folder (recursively), or of a list of files and folders, sorted
    within each folder, without duplicates."""
    if isinstance(sources, (str, Path)):
        sources = [sources]
    out: list[Path] = []
    seen: set[Path] = set()
    for src in sources:
        src = Path(src)
        if src.is_dir():
            found = []
            for root, _dirs, names in os.walk(src):
                found.extend(Path(root) / n for n in names
                             if n.lower().endswith(MIDI_SUFFIXES))
            batch = sorted(found)
        elif src.is_file():
            batch = [src]
        else:
            raise DataError(f"{src}: no such file or folder")
        for p in batch:
            key = p.resolve()
            if key not in seen:
                seen.add(key)
                out.append(p)
    return out


# ----- track summaries ---------------------------------------------------------------
def _summary(index: int, name: str, role: str, program: int, channel: int, is_drum: bool,
             starts: np.ndarray, ends: np.ndarray, pitches: np.ndarray,
             ticks_per_beat: int, steps_per_beat: int) -> TrackInfo:
    n = len(starts)
    # as ml.data.dataset.song_to_arrays counts a song's onsets on the grid
    on_grid = int(np.count_nonzero((starts * steps_per_beat) % ticks_per_beat == 0))
    overlap = 0.0
    if n >= 2:
        order = np.argsort(starts, kind="stable")
        s, e = starts[order], ends[order]
        latest = np.maximum.accumulate(e)
        overlap = float(np.count_nonzero(s[1:] < latest[:-1])) / n
    mean = float(pitches.mean()) if n else 0.0
    return TrackInfo(index, name, role, program, channel, is_drum, n, mean, overlap, on_grid)


def _arrays(notes: list[Note]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if not notes:
        z = np.zeros(0, np.int64)
        return z, z, z
    a = np.array([(n.start, n.start + n.duration, n.pitch) for n in notes], dtype=np.int64)
    return a[:, 0], a[:, 1], a[:, 2]


def track_infos(song: Song, steps_per_beat: int) -> list[TrackInfo]:
    out = []
    for i, t in enumerate(song.tracks):
        s, e, p = _arrays(t.notes)
        out.append(_summary(i, t.name, t.role, t.program, t.channel, t.is_drum, s, e, p,
                            song.ticks_per_beat, steps_per_beat))
    return out


# ----- melody and roles (ml.data.dataset's rules, on summaries) -----------------------------
def auto_melody(tracks: list[TrackInfo], config: ModelConfig) -> tuple[int | None, str]:
    """The melody track by ml.data.dataset's order (role, alias, highest monophonic), or None
    and why not."""
    candidates = [t for t in tracks if t.notes and not t.is_drum]
    if not candidates:
        return None, f"{NO_MELODY}: no pitched track with notes"
    for t in candidates:
        if t.role == "melody":
            return t.index, ""
    for alias in config.melody_aliases:
        for t in candidates:
            if alias in t.name.lower():
                return t.index, ""
    mono = [t for t in candidates if t.overlap <= MONO_OVERLAP]
    if not mono:
        return None, (f"{NO_MELODY}: every pitched track plays chords "
                      f"({len(candidates)} track{'s' if len(candidates) > 1 else ''})")
    return max(mono, key=lambda t: t.mean_pitch).index, ""


def auto_roles(tracks: list[TrackInfo], config: ModelConfig, melody: int | None,
               fixed: dict[str, int | None] | None = None) -> dict[str, int | None]:
    """Track for each role by ml.data.dataset's order; ``fixed`` roles (user's choice) are kept
    and their tracks are not offered to the others."""
    fixed = {k: v for k, v in (fixed or {}).items() if v is not None}
    free = [t for t in tracks if t.index != melody and t.notes
            and t.index not in fixed.values()]
    out: dict[str, int | None] = {spec.name: fixed.get(spec.name) for spec in config.roles}

    def take(name: str, t: TrackInfo) -> None:
        out[name] = t.index
        free.remove(t)

    for spec in config.roles:
        if out[spec.name] is None:
            hit = next((t for t in free if t.role == spec.role), None)
            if hit is not None:
                take(spec.name, hit)
    for spec in config.roles:
        if out[spec.name] is not None:
            continue
        for alias in spec.aliases:
            hit = next((t for t in free if alias in t.name.lower()), None)
            if hit is not None:
                take(spec.name, hit)
                break
    for spec in config.roles:
        if out[spec.name] is None and spec.is_drum:
            hit = next((t for t in free if t.is_drum or t.channel == 9), None)
            if hit is not None:
                take(spec.name, hit)
    pairs = sorted(
        (abs(t.mean_pitch - spec.register), k, t.index)
        for k, spec in enumerate(config.roles)
        if out[spec.name] is None and not spec.is_drum
        for t in free
        if not t.is_drum
    )
    for _, k, i in pairs:
        name = config.roles[k].name
        t = next((t for t in free if t.index == i), None)
        if out[name] is None and t is not None:
            take(name, t)
    return out


def assess(scan: FileScan, config: ModelConfig, melody: int | None = None,
           roles: dict[str, int | None] | None = None) -> FileScan:
    """(Re)judge a scanned file with the user's melody / role choices (None: automatic).

    Works from the track summaries; a file that could not be read stays unusable. The
    melody and parts are filled in even for a skipped file (the table shows them); the
    reason is the first of: no notes, unsupported meter (no choice of tracks mends it),
    no melody-like track, no track for a part, too short, off the grid (under the
    model's ``min_grid_share`` of note starts on its grid, as training skips such songs).
    """
    if scan.category in (UNREADABLE,) or not scan.tracks:
        return scan
    tracks = scan.tracks
    scan.melody_set = melody is not None
    scan.roles_set = {k: v is not None for k, v in (roles or {}).items()}
    scan.usable, scan.reason = False, ""
    scan.melody, scan.roles = None, {r.name: None for r in config.roles}
    if not any(t.notes for t in tracks):
        scan.reason = f"{NO_NOTES}: the file holds no notes"
        return scan
    problems: list[str] = []
    if scan.bad_meters:
        problems.append(f"{BAD_METER} {', '.join(scan.bad_meters)} (the model knows "
                        f"{', '.join(config.meters)})")
    if melody is not None:
        if 0 <= melody < len(tracks) and tracks[melody].notes:
            scan.melody = melody
        else:
            problems.append(f"{NO_MELODY}: track {melody} has no notes")
    else:
        scan.melody, why = auto_melody(tracks, config)
        if scan.melody is None:
            problems.append(why)
    if scan.melody is not None:
        scan.roles = auto_roles(tracks, config, scan.melody, roles)
        missing = [name for name, i in scan.roles.items() if i is None]
        used = [i for i in scan.roles.values() if i is not None]
        if len(set(used)) < len(used) or scan.melody in used:
            problems.append(f"{NO_ROLE}: one track chosen for two parts")
        elif missing:
            pitched = sum(1 for t in tracks if t.notes and not t.is_drum)
            problems.append(f"{NO_ROLE} {', '.join(missing)} ({pitched} pitched track"
                            f"{'s' if pitched != 1 else ''} with notes; the model writes "
                            f"{len(config.roles)} parts under the melody)")
        mel = tracks[scan.melody]
        if scan.bars < MIN_BARS or mel.notes < MIN_MELODY_NOTES:
            problems.append(f"{TOO_SHORT}: {scan.bars} bar{'s' if scan.bars != 1 else ''}, "
                            f"{mel.notes} melody notes (need {MIN_BARS} bars and "
                            f"{MIN_MELODY_NOTES} notes)")
        share = grid_share(scan)
        if share < config.min_grid_share:
            problems.append(off_grid_reason(share, config))
    scan.reason = problems[0] if problems else ""
    scan.usable = not problems
    return scan


def grid_share(scan: FileScan) -> float:
    """Share of the note starts of the file's melody and parts that fall exactly on the
    model's grid, as training measures it (1.0 when there are none)."""
    chosen = {i for i in (scan.melody, *scan.roles.values())
              if i is not None and 0 <= i < len(scan.tracks)}
    notes = sum(scan.tracks[i].notes for i in chosen)
    return sum(scan.tracks[i].on_grid for i in chosen) / notes if notes else 1.0


# ----- reading one file --------------------------------------------------------------
def _bars_and_meters(song: Song, config: ModelConfig, end_tick: int | None = None):
    from composer_gui.ml.data.meters import unsupported_bars
    from composer_gui.pianoroll.grid import song_grid

    grid = song_grid(song, config.steps_per_beat, end_tick)
    meters = list(dict.fromkeys(grid.bar_meters))
    # as training judges it (ml.data.dataset.song_to_arrays): pickups and short bars as the model's
    # features read them; with drop_odd_windows (pop) odd bars cost only their windows
    bad = sorted({m for _, m in unsupported_bars(grid.bar_starts, grid.bar_meters,
                                                 grid.n_steps, config)})
    if bad and config.drop_odd_windows and any(m in config.meters for m in grid.bar_meters):
        bad = []
    return len(grid.bar_starts), meters, bad


def _bass_mask(starts: np.ndarray, ends: np.ndarray, pitches: np.ndarray,
               pedal: list[tuple[int, float]], ticks_per_beat: int, ceiling: int) -> np.ndarray:
    """Which piano notes ``sources.pop909.split_piano`` gives to the bass (the same rule,
    with the pedal's sounding ends computed for all notes at once)."""
    n = len(starts)
    mask = np.zeros(n, bool)
    if not n:
        return mask
    order = np.lexsort((pitches, starts))
    s, e, p = starts[order], ends[order].astype(np.float64), pitches[order]
    if pedal:
        downs = np.array([d for d, _ in pedal], dtype=np.float64)
        ups = np.array([u for _, u in pedal], dtype=np.float64)
        i = np.searchsorted(downs, e, side="right") - 1
        ok = i >= 0
        held = np.zeros(n, bool)
        held[ok] = (downs[i[ok]] <= e[ok]) & (e[ok] < ups[i[ok]])
        e = np.where(held, ups[np.clip(i, 0, None)], e)
    slack = max(1, ticks_per_beat // 4)
    firsts = np.flatnonzero(np.r_[True, s[1:] != s[:-1]])
    bounds = np.r_[firsts, n]
    sl, el, pl = s.tolist(), e.tolist(), p.tolist()
    # Only a note below the ceiling can keep a lowest note (at most the ceiling) from
    # being bass, so only those are kept as "still sounding": same verdicts, far fewer
    # notes to look at than split_piano's list of every sounding note.
    active: list[int] = []
    for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist()):
        low = pl[a]
        if low <= ceiling:
            limit = sl[a] + slack
            if active:
                active = [k for k in active if el[k] > limit]
            if not any(pl[k] < low for k in active):
                mask[order[a]] = True
        active.extend(k for k in range(a, b) if pl[k] < ceiling)
    return mask


def _scan_pop909(path: Path, config: ModelConfig, scan: FileScan) -> None:
    """A POP909 song without the split and re-timing (see the module notes)."""
    from composer_gui.core.song import Song as _Song
    from composer_gui.midi.smf import read_midi
    from composer_gui.ml.data.sources.pop909 import (
        BASS_CEILING,
        PROGRAMS,
        Pop909Error,
        _moved_tick,
        _pedal_spans,
        load_pop909_beats,
        pop909_meter,
    )

    meter = pop909_meter(path.parent)
    if meter.label not in config.meters:
        scan.meters = [meter.label]
        scan.bad_meters = [meter.label]
        raise Pop909Error(f"{BAD_METER} {meter.label} (the model knows "
                          f"{', '.join(config.meters)})")
    raw = read_midi(path)
    beats = load_pop909_beats(path.parent, raw)
    by_name = {t.name.strip().upper(): t for t in raw.tracks}
    for name in ("MELODY", "BRIDGE", "PIANO"):
        if name not in by_name:
            raise Pop909Error(f"{path}: no {name} track")
    shift = beats.shift
    ps, pe, pp = _arrays(by_name["PIANO"].notes)
    ps, pe = ps + shift, pe + shift
    pedal = _pedal_spans([Event(_moved_tick(e.tick, shift), e.kind, e.params)
                          for e in by_name["PIANO"].events])
    bass = _bass_mask(ps, pe, pp, pedal, beats.ticks_per_beat, BASS_CEILING)
    def moved(name: str):
        s, e, p = _arrays(by_name[name].notes)
        return s + shift, e + shift, p

    parts = [
        ("Melody", "melody", 0, moved("MELODY")),
        ("Bass", "bass", 1, (ps[bass], pe[bass], pp[bass])),
        ("Piano", "piano", 2, (ps[~bass], pe[~bass], pp[~bass])),
        ("Strings", "strings", 3, moved("BRIDGE")),
    ]
    ends = [int(a[1].max()) for _n, _r, _c, a in parts if len(a[1])]
    ends += [_moved_tick(e.tick, shift) for name in ("MELODY", "PIANO", "BRIDGE")
             for e in by_name[name].events]
    end = max(ends, default=0)
    scan.tracks = [_summary(i, name, role, PROGRAMS[name], ch, False, *arr,
                            beats.ticks_per_beat, config.steps_per_beat)
                   for i, (name, role, ch, arr) in enumerate(parts)]
    timing = _Song(ticks_per_beat=beats.ticks_per_beat, time_signatures=beats.time_signatures())
    scan.bars, scan.meters, scan.bad_meters = _bars_and_meters(timing, config, max(1, end))


def scan_file(path: str | Path, config: ModelConfig) -> FileScan:
    """Read one file and judge it (never raises for a bad file: the reason says why)."""
    from composer_gui.ml.data.sources import is_pop909_file, read_song

    path = Path(path)
    scan = FileScan(str(path), validation=is_validation(path))
    try:
        if is_pop909_file(path):
            _scan_pop909(path, config, scan)
        else:
            song = read_song(path, pop909_meters=tuple(config.meters))
            scan.tracks = track_infos(song, config.steps_per_beat)
            if any(t.notes for t in song.tracks):
                scan.bars, scan.meters, scan.bad_meters = _bars_and_meters(song, config)
    except UserError as exc:
        text = str(exc)
        if text.startswith(BAD_METER):
            scan.reason = text
        else:
            scan.reason = f"{UNREADABLE}: {text}"
        return scan
    except (OSError, ValueError, EOFError, IndexError, KeyError) as exc:
        scan.reason = f"{UNREADABLE}: {type(exc).__name__}: {exc}"
        return scan
    return assess(scan, config)


def _scan_chunk(paths: list[str], config: ModelConfig) -> list[FileScan]:
    """Scan several files (the unit of work of a worker process)."""
    return [scan_file(p, config) for p in paths]


def default_workers(n_files: int) -> int:
    """Processes worth using for ``n_files``: one for small folders (starting a process
    costs ~0.3 s), else one per core, at most 4. (The window scans in one process: a
    spawned worker re-imports the program's main module, which only a main module with
    the ``if __name__ == "__main__"`` guard survives, and a frozen app not at all.)"""
    if n_files < PARALLEL_FROM or getattr(sys, "frozen", False):
        return 1
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(4, cores))


def scan_files(sources: str | Path | Iterable[str | Path], config: ModelConfig,
               progress: Progress | None = None, cancel: threading.Event | None = None,
               every: int = 1, on_file: Callable[[FileScan], None] | None = None,
               workers: int = 1) -> ScanResult:
    """Scan a folder (recursively) or a list of files and folders.

    ``progress(done, total, name)`` is called after every ``every`` files and at the end;
    ``on_file(scan)`` after each file; setting ``cancel`` stops the scan between files
    (the result says ``cancelled``). ``workers`` > 1 spreads the files over that many
    spawned processes (see :func:`default_workers`; should they fail to start, the rest
    is scanned here); files come back in order either way.
    """
    paths = list_midi_files(sources)
    result = ScanResult([], config.role_names())
    total = len(paths)
    if progress is not None:
        progress(0, total, "")
    workers = max(1, workers)

    def take(scanned: FileScan) -> None:
        result.files.append(scanned)
        if on_file is not None:
            on_file(scanned)
        done = len(result.files)
        if progress is not None and (done % every == 0 or done == total):
            progress(done, total, scanned.name)

    if workers > 1:
        _scan_parallel([str(p) for p in paths], config, workers, take, cancel, result)
    for path in paths[len(result.files):]:  # all of them, or what the workers left
        if result.cancelled or (cancel is not None and cancel.is_set()):
            result.cancelled = True
            break
        take(scan_file(path, config))
    return result


def _scan_parallel(paths: list[str], config: ModelConfig, workers: int,
                   take: Callable[[FileScan], None], cancel: threading.Event | None,
                   result: ScanResult) -> None:
    """Chunks of files on ``workers`` spawned processes (never forked: the window scans
    from a thread, and forking a threaded Qt process is unsafe)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    chunks = [paths[i:i + CHUNK] for i in range(0, len(paths), CHUNK)]
    context = multiprocessing.get_context("spawn")
    try:
        with ProcessPoolExecutor(workers, mp_context=context) as pool:
            futures = [pool.submit(_scan_chunk, chunk, config) for chunk in chunks]
            try:
                for future in futures:  # in order, so the files keep the folder's order
                    while True:
                        if cancel is not None and cancel.is_set():
                            result.cancelled = True
                            return
                        try:
                            scans = future.result(timeout=0.1)
                            break
                        except TimeoutError:
                            continue
                    for scanned in scans:
                        take(scanned)
            finally:
                for future in futures:
                    future.cancel()
    except (BrokenProcessPool, RuntimeError, OSError):
        pass  # the caller scans whatever is left in this process
