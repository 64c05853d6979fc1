"""Training data: a folder of MIDI files -> cached arrays on the model's grid.

Per file: read it (``composer_gui.midi.smf``), find the melody track, map the other
tracks to the model's roles, lay the notes on the step grid (bars from the meter map)
and store the result in a cache (``.npz`` in the platform's cache folder, keyed by the
file's path, size and modification time and by the parts of the config that shape the
grid), so a second run reads no MIDI at all. Files that cannot be used are skipped and
their reasons kept in a :class:`DataReport`.

The melody track and the track of each part: :mod:`composer_gui.ml.data.roles`; windows
and batches of the arrays: :mod:`composer_gui.ml.data.windows`.

The validation split is fixed by the file name: files whose SHA-1 of the name has a
first byte divisible by 10 (about 10%) are never trained on.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from composer_gui.core.song import Song
from composer_gui.ml.data.mapping import FileMapping
from composer_gui.ml.data.meters import unsupported_bars
from composer_gui.ml.data.roles import assign_roles, bass_from_chords, find_melody
from composer_gui.ml.errors import DataError
from composer_gui.ml.model.config import ModelConfig
from composer_gui.pianoroll.grid import Grid, notes_to_codes, song_grid

PIPELINE_VERSION = 3
#: Extra pitches kept on each side of the model's range for transposition.
MARGIN = 12
#: Grids whose onset coverage the report measures (steps per beat).
GRID_CANDIDATES = (1, 2, 3, 4, 6, 8, 12)
MIDI_SUFFIXES = (".mid", ".midi", ".kar")


def default_cache_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_cache_dir("composer-gui")) / "ml-data"


def is_validation(path: Path) -> bool:
    """The fixed ~10% validation split, by file name."""
    return hashlib.sha1(Path(path).name.encode("utf-8")).digest()[0] % 10 == 0


def find_midi_files(folder: Path) -> list[Path]:
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"{folder}: not a folder")
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in MIDI_SUFFIXES and p.is_file())


# ----- one file -> arrays ---------------------------------------------------------------
@dataclass
class SongArrays:
    """One song on the grid: codes ``[1 + roles, steps, pitches + 2*MARGIN]`` (melody
    first), the bar starts and meters, and onset-grid statistics."""

    name: str
    codes: np.ndarray
    bar_starts: np.ndarray
    bar_meters: list[str]
    grid_hits: np.ndarray  # onsets on each GRID_CANDIDATES grid
    onsets: int
    path: str = ""  # the file it came from (previews read its melody again)


def song_to_arrays(song: Song, config: ModelConfig, name: str,
                   melody_override: int | None = None,
                   role_overrides: dict[str, int] | None = None) -> SongArrays:
    """Lay a song's melody and role tracks on the model's grid."""
    melody = find_melody(song, config, melody_override)
    roles = assign_roles(song, config, melody, role_overrides)
    song, roles = bass_from_chords(song, config, roles)
    missing = [config.roles[k].name for k, i in enumerate(roles) if i is None]
    if missing:
        raise DataError(f"no track for role {', '.join(missing)}")
    grid = song_grid(song, config.steps_per_beat)
    bad = sorted({m for _, m in unsupported_bars(grid.bar_starts, grid.bar_meters,
                                                 grid.n_steps, config)})
    if bad and (not config.drop_odd_windows
                or not any(m in config.meters for m in grid.bar_meters)):
        raise DataError(f"unsupported meter {', '.join(bad)}")
    lo, hi = config.lowest - MARGIN, config.highest + MARGIN
    parts = [notes_to_codes(song.tracks[melody].notes, grid, lo, hi, fold=True)]
    for i in roles:
        parts.append(notes_to_codes(song.tracks[i].notes, grid, lo, hi))
    tpb = song.ticks_per_beat
    starts = np.array(
        [n.start for i in [melody, *roles] for n in song.tracks[i].notes], dtype=np.int64
    )
    hits = np.array(
        [int(np.sum((starts * c) % tpb == 0)) for c in GRID_CANDIDATES], dtype=np.int64
    )
    return SongArrays(name, np.stack(parts), grid.bar_starts, grid.bar_meters, hits, len(starts))


def _cache_key(path: Path, config: ModelConfig, melody_override: int | None,
               role_overrides: dict[str, int] | None = None) -> str:
    st = path.stat()
    relevant = {
        "v": PIPELINE_VERSION,
        "path": str(path.resolve()),
        "size": st.st_size,
        "mtime": st.st_mtime_ns,
        "roles": [(r.name, r.role, r.aliases, r.register, r.is_drum) for r in config.roles],
        "melody_aliases": config.melody_aliases,
        "grid": config.steps_per_beat,
        "range": (config.lowest, config.highest),
        "meters": config.meters,
        "melody": melody_override,
    }
    if role_overrides:  # only then, so entries cached without a mapping stay valid
        relevant["role_overrides"] = sorted((k.lower(), v) for k, v in role_overrides.items())
    if config.meter_aware:  # lenient bars, and the source readers' own rules
        from composer_gui.ml.data.sources.nottingham import SOURCE_VERSION

        relevant["meter_aware"] = SOURCE_VERSION
    return hashlib.sha1(json.dumps(relevant, sort_keys=True).encode()).hexdigest()


def load_file(path: Path, config: ModelConfig, cache_dir: Path | None,
              melody_override: int | None = None,
              role_overrides: dict[str, int] | None = None) -> tuple[SongArrays, bool]:
    """One file's arrays, from the cache when possible; returns (arrays, from_cache)."""
    key = _cache_key(path, config, melody_override, role_overrides)
    cached = cache_dir / f"{key}.npz" if cache_dir else None
    if cached is not None and cached.is_file():
        try:
            with np.load(cached, allow_pickle=False) as z:
                return SongArrays(
                    path.name, z["codes"], z["bar_starts"], [str(m) for m in z["bar_meters"]],
                    z["grid_hits"], int(z["onsets"]), str(path),
                ), True
        except (OSError, ValueError, KeyError):
            pass  # a damaged cache entry is rebuilt below
    # POP909 songs (annotated bars, split piano) and Groove drums read through their
    # source readers; any other file through the project's MIDI reader
    from composer_gui.ml.data.sources import read_song

    song = read_song(path, pop909_meters=tuple(config.meters))
    arrays = song_to_arrays(song, config, path.name, melody_override, role_overrides)
    arrays.path = str(path)
    if cached is not None:
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_name(f"{cached.stem}.{os.getpid()}.tmp.npz")  # runs side by side
        np.savez_compressed(
            tmp, codes=arrays.codes, bar_starts=arrays.bar_starts,
            bar_meters=np.array(arrays.bar_meters), grid_hits=arrays.grid_hits,
            onsets=np.array(arrays.onsets),
        )
        tmp.replace(cached)
    return arrays, False


def _grid_share(arrays: SongArrays, config: ModelConfig) -> float:
    """Share of a song's onsets exactly on the model's grid (1.0 when it has none)."""
    if not arrays.onsets or config.steps_per_beat not in GRID_CANDIDATES:
        return 1.0
    return float(arrays.grid_hits[GRID_CANDIDATES.index(config.steps_per_beat)]) / arrays.onsets


def off_grid_reason(share: float, config: ModelConfig) -> str:
    """Why a song under the model's ``min_grid_share`` is not used (training and scan)."""
    return (f"off the grid: only {share:.1%} of the note starts fall on the "
            f"{config.steps_per_beat}-steps-per-beat grid (this model needs "
            f"{config.min_grid_share:.0%}: a played, unquantized take; quantize it in a "
            "MIDI editor first)")


@dataclass
class DataReport:
    """What a data run found: songs per split, skipped files with reasons, grid fit."""

    files: int = 0
    train_songs: int = 0
    validation_songs: int = 0
    from_cache: int = 0
    #: Files the mapping marked ``skip`` (not read).
    excluded: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    grid_hits: np.ndarray = field(default_factory=lambda: np.zeros(len(GRID_CANDIDATES), np.int64))
    onsets: int = 0

    def grid_coverage(self) -> dict[int, float]:
        """Share of onsets on each candidate grid (steps per beat -> share)."""
        if not self.onsets:
            return {c: 1.0 for c in GRID_CANDIDATES}
        return {c: float(h) / self.onsets for c, h in zip(GRID_CANDIDATES, self.grid_hits)}

    def to_dict(self) -> dict:
        return {
            "files": self.files,
            "train_songs": self.train_songs,
            "validation_songs": self.validation_songs,
            "from_cache": self.from_cache,
            "excluded": self.excluded,
            "skipped": [{"file": f, "reason": r} for f, r in self.skipped],
            "onsets": self.onsets,
            "grid_coverage": {str(k): round(v, 5) for k, v in self.grid_coverage().items()},
        }


@dataclass
class Dataset:
    train: list[SongArrays]
    validation: list[SongArrays]
    report: DataReport


def load_folder(folder: Path, config: ModelConfig, cache_dir: Path | None = None,
                melody_override: int | None = None, mapping: FileMapping | None = None,
                ) -> Iterator[dict]:
    """Read a folder (or, with a ``mapping``, the files it selects, with its per-file
    melody and role choices); yields progress records ``{"kind": "data", "done",
    "total", "file"}`` and returns a :class:`Dataset` (use ``yield from``)."""
    from composer_gui.core.errors import UserError

    if mapping is not None:
        files = mapping.used()
        if not files:
            raise DataError(f"{mapping.source}: the mapping selects no file (all skipped)")
    else:
        files = find_midi_files(folder)
        if not files:
            raise DataError(f"{folder}: no MIDI files (.mid, .midi, .kar) in it or its subfolders")
    report = DataReport(files=len(files), excluded=mapping.excluded() if mapping else 0)
    train: list[SongArrays] = []
    val: list[SongArrays] = []
    for done, path in enumerate(files, 1):
        melody, roles = melody_override, None
        if mapping is not None:
            choice = mapping.choice(path)
            melody = choice.melody if choice.melody is not None else melody_override
            roles = choice.role_overrides() or None
        try:
            if not path.is_file():
                raise DataError("file not found")
            arrays, hit = load_file(path, config, cache_dir, melody, roles)
        except UserError as exc:
            report.skipped.append((str(path), str(exc)))
        except (OSError, ValueError, EOFError, IndexError, KeyError) as exc:
            report.skipped.append((str(path), f"{type(exc).__name__}: {exc}"))
        else:
            share = _grid_share(arrays, config)
            if share < config.min_grid_share:
                report.skipped.append((str(path), off_grid_reason(share, config)))
            else:
                report.from_cache += hit
                report.grid_hits += arrays.grid_hits
                report.onsets += arrays.onsets
                (val if is_validation(path) else train).append(arrays)
        if done % 10 == 0 or done == len(files):
            yield {"kind": "data", "done": done, "total": len(files), "file": path.name}
    report.train_songs, report.validation_songs = len(train), len(val)
    if not train:
        raise DataError(no_usable_message(folder if mapping is None else mapping.source,
                                          report, config))
    return Dataset(train, val, report)


def no_usable_message(where, report: DataReport, config: ModelConfig) -> str:
    """Why nothing could be trained on: the reasons counted, one example each."""
    if not report.skipped:
        return (f"{where}: all {report.validation_songs} usable songs fall in the validation "
                "split (about 1 file in 10, by name); add more files")
    reasons: dict[str, list[str]] = {}
    for path, reason in report.skipped:
        reasons.setdefault(reason, []).append(path)
    parts = [f"{len(paths)} x {reason} (e.g. {Path(paths[0]).name})"
             for reason, paths in sorted(reasons.items(), key=lambda kv: -len(kv[1]))[:4]]
    return (f"{where}: none of the {report.files} MIDI files is usable for a model writing "
            f"{', '.join(config.role_names())} under a melody: " + "; ".join(parts))


def load_dataset(folder: Path, config: ModelConfig, use_cache: bool = True) -> Dataset:
    """:func:`load_folder` run to its end without progress records: the folder's
    :class:`Dataset` (cached arrays in :func:`default_cache_dir` unless ``use_cache`` is
    False)."""
    loading = load_folder(Path(folder), config, default_cache_dir() if use_cache else None)
    try:
        while True:
            next(loading)
    except StopIteration as stop:
        return stop.value


def melody_in_range(codes_ext: np.ndarray, pitches: int) -> np.ndarray:
    """The melody's extended-range codes folded by octaves into the model's range."""
    out = codes_ext[:, MARGIN:MARGIN + pitches].copy()
    # an octave below the range moves up an octave, an octave above moves down
    out[:, :MARGIN] = np.maximum(out[:, :MARGIN], codes_ext[:, :MARGIN])
    out[:, pitches - MARGIN:] = np.maximum(out[:, pitches - MARGIN:], codes_ext[:, MARGIN + pitches:])
    return out


def song_grid_of(song: SongArrays, steps_per_beat: int) -> Grid:
    """The grid of a song laid out by :func:`song_to_arrays` (480 ticks a beat)."""
    return Grid(480, steps_per_beat, song.bar_starts, song.bar_meters, song.codes.shape[1])
