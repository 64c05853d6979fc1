"""Training data: a folder of MIDI files -> cached grids -> batches of windows.

Per file: read it (``composer_gui.midi.smf``), find the melody track, map the other
tracks to the model's roles, lay the notes on the step grid (bars from the meter map)
and store the result in a cache (``.npz`` in the platform's cache folder, keyed by the
file's path, size and modification time and by the parts of the config that shape the
grid), so a second run reads no MIDI at all. Files that cannot be used are skipped and
their reasons kept in a :class:`DataReport`.

Melody track, in this order: the override index; a track whose role is "melody"; a
track whose name contains one of the config's melody aliases; otherwise the heuristic:
among tracks that are mostly monophonic (at most 25% of note starts overlap another
note), the one with the highest mean pitch (any track when none is monophonic).

Accompaniment roles, each in the config's order: a track with that role; a track whose
name contains one of the role's aliases; for drum roles a drum track; then the
remaining pitched tracks by nearest mean pitch to the role's register.

The validation split is fixed by the file name: files whose SHA-1 of the name has a
first byte divisible by 10 (about 10%) are never trained on.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from composer_gui.core.song import Song, Track
from composer_gui.ml.data.grid import notes_to_codes, song_grid
from composer_gui.ml.data.mapping import FileMapping
from composer_gui.ml.data.meters import unsupported_bars, window_position_features
from composer_gui.ml.errors import DataError
from composer_gui.ml.model.config import ModelConfig

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


# ----- track assignment ----------------------------------------------------------------
def _mean_pitch(track: Track) -> float:
    return float(np.mean([n.pitch for n in track.notes])) if track.notes else 0.0


def _overlap_share(track: Track) -> float:
    """Share of note starts that fall inside another note of the track."""
    notes = sorted(track.notes, key=lambda n: n.start)
    if len(notes) < 2:
        return 0.0
    overlapping = 0
    latest_end = -1
    for n in notes:
        if n.start < latest_end:
            overlapping += 1
        latest_end = max(latest_end, n.end)
    return overlapping / len(notes)


def find_melody(song: Song, config: ModelConfig, override: int | None = None) -> int:
    """Index of the melody track (see the module docstring for the order)."""
    if override is not None:
        if not 0 <= override < len(song.tracks):
            raise DataError(f"melody track {override} does not exist ({len(song.tracks)} tracks)")
        return override
    candidates = [i for i, t in enumerate(song.tracks) if t.notes and not t.is_drum]
    if not candidates:
        raise DataError("no melody-like track (no pitched track with notes)")
    for i in candidates:
        if song.tracks[i].role == "melody":
            return i
    for alias in config.melody_aliases:
        for i in candidates:
            if alias in song.tracks[i].name.lower():
                return i
    mono = [i for i in candidates if _overlap_share(song.tracks[i]) <= 0.25] or candidates
    return max(mono, key=lambda i: _mean_pitch(song.tracks[i]))


def _fixed_roles(song: Song, config: ModelConfig, melody: int,
                 overrides: dict[str, int]) -> dict[int, int]:
    """Role index -> track index from a mapping's ``roles`` (keys: role name or role)."""
    fixed: dict[int, int] = {}
    for key, track in overrides.items():
        k = next((k for k, spec in enumerate(config.roles)
                  if key.lower() in (spec.name.lower(), spec.role.lower())), None)
        if k is None:
            raise DataError(f"the mapping names role {key!r}; this model's roles are "
                            f"{', '.join(r.name for r in config.roles)}")
        if not 0 <= track < len(song.tracks):
            raise DataError(f"role {key}: track {track} does not exist ({len(song.tracks)} tracks)")
        if track == melody:
            raise DataError(f"role {key}: track {track} is the melody track")
        if track in fixed.values():
            raise DataError(f"role {key}: track {track} is given to two roles")
        fixed[k] = track
    return fixed


def assign_roles(song: Song, config: ModelConfig, melody: int,
                 overrides: dict[str, int] | None = None) -> list[int | None]:
    """Track index for each of the config's roles (None when no track fits);
    ``overrides`` (role name or role -> track index) are taken first, as given."""
    fixed = _fixed_roles(song, config, melody, overrides or {})
    free = [i for i, t in enumerate(song.tracks)
            if i != melody and t.notes and i not in fixed.values()]
    out: list[int | None] = [fixed.get(k) for k in range(config.tracks)]

    def take(k: int, i: int) -> None:
        out[k] = i
        free.remove(i)

    for k, spec in enumerate(config.roles):
        hit = next((i for i in free if song.tracks[i].role == spec.role), None)
        if hit is not None and out[k] is None:
            take(k, hit)
    for k, spec in enumerate(config.roles):
        if out[k] is not None:
            continue
        for alias in spec.aliases:
            hit = next((i for i in free if alias in song.tracks[i].name.lower()), None)
            if hit is not None:
                take(k, hit)
                break
    for k, spec in enumerate(config.roles):
        if out[k] is None and spec.is_drum:
            hit = next((i for i in free if song.tracks[i].is_drum or song.tracks[i].channel == 9), None)
            if hit is not None:
                take(k, hit)
    # register: remaining pitched roles take the remaining pitched tracks, closest first
    pairs = [
        (abs(_mean_pitch(song.tracks[i]) - spec.register), k, i)
        for k, spec in enumerate(config.roles)
        if out[k] is None and not spec.is_drum
        for i in free
        if not song.tracks[i].is_drum
    ]
    for _, k, i in sorted(pairs):
        if out[k] is None and i in free:
            take(k, i)
    return out


def bass_from_chords(song: Song, config: ModelConfig,
                     roles: list[int | None]) -> tuple[Song, list[int | None]]:
    """Many users' tunes have one accompaniment track (chords with the bass in them) where
    the model writes a chord part and a bass part: when the bass role has no track of its
    own and a single chordal track was found for the chords (or piano) role or the bass
    role, that track plays the chords and its lowest voice becomes the bass, as the
    Nottingham reader does. Otherwise the song and roles come back unchanged."""
    bass = next((k for k, s in enumerate(config.roles) if s.role == "bass"), None)
    chords = next((k for k, s in enumerate(config.roles) if s.role in ("chords", "piano")), None)
    if bass is None or chords is None:
        return song, roles
    if roles[bass] is not None and roles[chords] is not None:
        return song, roles
    source = roles[chords] if roles[chords] is not None else roles[bass]
    if source is None:
        return song, roles
    notes = song.tracks[source].notes
    starts = Counter(n.start for n in notes)
    if sum(1 for v in starts.values() if v >= 2) < 0.3 * max(1, len(starts)):
        return song, roles  # a single line is no chord part
    from composer_gui.ml.data.sources.nottingham import lowest_voice

    spec = config.roles[bass]
    derived = Track(name=spec.name, program=spec.program, channel=spec.channel,
                    role=spec.role, notes=lowest_voice(notes))
    out = dataclasses.replace(song, tracks=[*song.tracks, derived])
    roles = list(roles)
    roles[chords], roles[bass] = source, len(song.tracks)
    return out, roles


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


# ----- windows and batches --------------------------------------------------------------
@dataclass
class Batch:
    """Numpy arrays of one batch (see ``model.Generator`` for the shapes)."""

    melody: np.ndarray  # [B, 2, T, P]
    real: np.ndarray  # [B, R, 2, T, P]
    mask: np.ndarray  # [B, R, T]
    position: np.ndarray  # [B, T, F]
    bar_len: np.ndarray  # [B] steps of the window's first bar (for metrics)
    #: Per window, the steps where its bars start (fixed windows only; for metrics).
    bars: list[np.ndarray] | None = None
    #: Per window ``[B, P]``: the melody's held steps per pitch from ``model.config.KEY_SPAN``
    #: windows before to after it in its song (fixed windows only): the key guard's view of
    #: the key, as at generation.
    key_mass: np.ndarray | None = None


def window_starts(song: SongArrays, config: ModelConfig | None = None) -> np.ndarray:
    """Window starts: every bar start whose window holds melody notes. With a config
    whose ``drop_odd_windows`` is set, only windows whose bars all have supported meters
    (no pickup, no odd-length bar inside)."""
    mel = song.codes[0].any(axis=1)
    starts = [int(s) for s in song.bar_starts if mel[s:].any()]
    if config is not None and config.drop_odd_windows:
        odd = np.array([m not in config.meters for m in song.bar_meters])
        bars = song.bar_starts
        t = config.window_steps
        ok = []
        for s in starts:
            first = int(np.searchsorted(bars, s, side="right")) - 1
            last = int(np.searchsorted(bars, s + t, side="left"))  # bars starting inside
            if not odd[max(0, first):last].any():
                ok.append(s)
        starts = ok
    return np.array(starts, dtype=np.int64)


def _context_mask(rng: np.random.Generator, config: ModelConfig, bars: np.ndarray, t: int):
    """A random keep-mask [R, T] that teaches continuation and inpainting."""
    r = config.tracks
    mask = np.zeros((r, t), dtype=np.float32)
    u = rng.random()
    inner = bars[(bars > 0) & (bars < t)]
    if u < 0.35 or len(inner) == 0:
        return mask
    if u < 0.6:  # continuation: the window's first bars are kept (the previous window's tail)
        mask[:, : int(rng.choice(inner))] = 1.0
    elif u < 0.8:  # some parts kept whole, the others generated
        keep = rng.random(r) < 0.5
        if keep.all():
            keep[rng.integers(r)] = False
        mask[keep] = 1.0
    else:  # a gap of bars in some parts, the rest kept
        edges = np.concatenate([[0], inner, [t]])
        a = int(rng.integers(len(edges) - 1))
        b = int(rng.integers(a + 1, len(edges)))
        tracks = rng.random(r) < 0.6
        if not tracks.any():
            tracks[rng.integers(r)] = True
        mask[:] = 1.0
        mask[np.ix_(tracks, np.arange(edges[a], edges[b]))] = 0.0
    return mask


def make_window(song: SongArrays, start: int, shift: int, config: ModelConfig):
    """Codes ``[1+R, T, P]`` of a window (padded), transposed by ``shift`` semitones,
    and its position features; returns None when the shift pushes notes out of range."""
    t, p = config.window_steps, config.pitches
    codes = song.codes[:, start:start + t]
    if codes.shape[1] < t:
        codes = np.pad(codes, ((0, 0), (0, t - codes.shape[1]), (0, 0)))
    lo = MARGIN - shift
    window = codes[:, :, lo:lo + p]
    if shift and int(np.count_nonzero(codes[1:])) != int(np.count_nonzero(window[1:])):
        return None
    song_steps = song.codes.shape[1]
    pos = window_position_features(config, song.bar_starts, song.bar_meters, t,
                                   song_steps=song_steps, offset=start)
    return window, pos


def sample_batch(songs: list[SongArrays], starts: list[np.ndarray], config: ModelConfig,
                 rng: np.random.Generator, batch_size: int, augment: bool = True,
                 masks: bool = True) -> Batch:
    """A random batch of windows (random song, bar, transposition and context mask)."""
    from composer_gui.ml.data.grid import channels

    t = config.window_steps
    mel, real, msk, pos, bar_len = [], [], [], [], []
    while len(mel) < batch_size:
        k = int(rng.integers(len(songs)))
        if len(starts[k]) == 0:
            continue
        start = int(rng.choice(starts[k]))
        shift = int(rng.integers(-5, 7)) if augment else 0
        made = make_window(songs[k], start, shift, config)
        if made is None:
            made = make_window(songs[k], start, 0, config)
        window, features = made
        ch = channels(window)
        mel.append(ch[0])
        real.append(ch[1:])
        bars = songs[k].bar_starts - start
        msk.append(_context_mask(rng, config, bars, t) if masks
                   else np.zeros((config.tracks, t), np.float32))
        pos.append(features)
        inner = bars[bars > 0]
        bar_len.append(int(inner[0]) if len(inner) else t)
    return Batch(np.stack(mel), np.stack(real), np.stack(msk), np.stack(pos), np.array(bar_len))


#: Validation takes at least this many windows when its songs have them: with a few
#: validation songs (a fine-tune of 100 songs has about 10), four windows each made the
#: metrics of one validation differ from the next by more than their targets' margins.
MIN_VALIDATION_WINDOWS = 64


def fixed_windows(songs: list[SongArrays], config: ModelConfig, per_song: int = 4,
                  at_least: int = MIN_VALIDATION_WINDOWS) -> Batch:
    """Deterministic validation windows: ``per_song`` evenly spaced per song (more when
    that would give under ``at_least`` windows in all; never more than a song has), no
    transposition, no context."""
    from composer_gui.ml.data.grid import channels
    from composer_gui.ml.model.config import KEY_SPAN

    bars: list[np.ndarray] = []
    mel, real, pos, bar_len, key = [], [], [], [], []
    t = config.window_steps
    per_song = max(per_song, -(-at_least // max(1, len(songs))))
    for song in songs:
        st = window_starts(song, config)
        if len(st) == 0:
            continue
        picks = st[np.linspace(0, len(st) - 1, min(per_song, len(st))).astype(int)]
        for start in sorted(set(int(s) for s in picks)):
            window, features = make_window(song, start, 0, config)
            ch = channels(window)
            mel.append(ch[0])
            real.append(ch[1:])
            pos.append(features)
            inner = song.bar_starts[song.bar_starts > start] - start
            bar_len.append(int(inner[0]) if len(inner) else config.window_steps)
            rel = song.bar_starts - start
            bars.append(rel[(rel >= 0) & (rel < config.window_steps)])
            lo, hi = max(0, start - KEY_SPAN[0] * t), start + KEY_SPAN[1] * t
            key.append((song.codes[0, lo:hi, MARGIN:MARGIN + config.pitches] > 0).sum(axis=0))
    if not mel:
        raise DataError("no validation windows")
    n = len(mel)
    return Batch(np.stack(mel), np.stack(real),
                 np.zeros((n, config.tracks, config.window_steps), np.float32),
                 np.stack(pos), np.array(bar_len), bars, np.stack(key).astype(np.float64))
