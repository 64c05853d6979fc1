"""Where a generation's result lands in the song, worked out from the song alone (no
widgets): the plan the Generate panel fixes when Generate is pressed (new tracks named by
role added after the existing ones, or only the chosen bars of the chosen, unlocked parts
rewritten), the bars and ticks it covers, which document tracks hold the model's roles,
what the worker is given to generate from, and the edits one candidate becomes; the
melody track is never touched.

Replacing with another style replaces every part the previous generation wrote, as a
DAW's "replace" would: the old style's parts the new one does not write (a chorale's Alto
and Tenor under a pop generation) are removed, and a part both write (Bass) takes the new
style's instrument. A part is a generated one when it has a role other than the melody.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from composer_gui.core.edits import AddTrack, RemoveTrack, ReplaceRange, SetTrackProperties
from composer_gui.core.song import Song, Track


@dataclass
class GenerationPlan:
    """How a result goes into the song (decided on the GUI thread at request time)."""

    mode: str  # "add" or "update"
    roles: list[str]  # role names of the model, in its order
    regenerate: list[int]  # role indices generated
    targets: dict[int, int]  # role index -> document track index (update mode)
    region: tuple[int, int]  # ticks [start, end) rewritten in update mode
    suffix: str = ""
    #: Document tracks of another style's parts: never context for this model ...
    foreign: list[int] = field(default_factory=list)
    #: ... and those of them replaced (removed; update mode, whole song, unlocked).
    remove: list[int] = field(default_factory=list)
    #: Role index -> track properties its target takes on (the new style's instrument).
    retarget: dict[int, dict] = field(default_factory=dict)


def bar_starts(song: Song) -> list[int]:
    """Bar start ticks (meter map) up to just past the song's end."""
    from composer_gui.ml.generate.controls import _bar_ticks  # numpy only, no torch

    return [int(t) for t in _bar_ticks(song)]


def bars_of_span(song: Song, lo: int, hi: int) -> tuple[int, int]:
    """1-based inclusive bars that ticks ``[lo, hi)`` touch."""
    starts = bar_starts(song)
    first = max(0, sum(1 for s in starts if s <= lo) - 1)
    last = max(first, sum(1 for s in starts if s < hi) - 1)
    return first + 1, last + 1


def region_of(song: Song, bars: tuple[int, int] | None) -> tuple[int, int]:
    """Ticks ``[start, end)`` of 1-based inclusive ``bars`` (None: the whole song)."""
    starts = bar_starts(song)
    if bars is None:
        return (0, max(song.end_tick, starts[-1]) + 1)
    lo = starts[bars[0] - 1]
    hi = starts[bars[1]] if bars[1] < len(starts) else song.end_tick + 1
    return (lo, hi)


def role_targets(specs, song: Song, melody: int) -> dict[int, int]:
    """Document tracks holding each of the model's output roles ``specs``: exact name,
    then role (as the sampler maps); the melody track is never a target."""
    used, out = {melody}, {}
    for r, spec in enumerate(specs):
        hit = next((i for i, t in enumerate(song.tracks) if i not in used
                    and t.name.strip().lower() == spec.name.lower()), None)
        if hit is None:
            hit = next((i for i, t in enumerate(song.tracks)
                        if i not in used and t.role == spec.role), None)
        if hit is not None:
            used.add(hit)
            out[r] = hit
    return out


def other_style_parts(specs, song: Song, melody: int, targets: dict[int, int]) -> list[int]:
    """Document tracks holding generated parts (a role other than the melody's) whose
    role the model of ``specs`` does not write: a sign that another style wrote them.
    Empty when the song's generated parts are all of this model's roles."""
    roles = {spec.role for spec in specs}
    taken = set(targets.values()) | {melody}
    return [i for i, t in enumerate(song.tracks)
            if i not in taken and t.role not in (None, "melody") and t.role not in roles]


def instrument_changes(specs, song: Song, targets: dict[int, int]) -> dict[int, dict]:
    """Role index -> the properties its target track must change to sound as the model
    of ``specs`` writes it (GM program, channel, drum flag, role)."""
    out = {}
    for r, i in targets.items():
        spec, track = specs[r], song.tracks[i]
        want = {"program": spec.program, "channel": spec.channel, "is_drum": spec.is_drum,
                "role": spec.role}
        changes = {k: v for k, v in want.items() if getattr(track, k) != v}
        if changes:
            out[r] = changes
    return out


def alongside_suffix(song: Song, roles: list[str]) -> str:
    """The name suffix (" 2", " 3", ...) of parts added alongside parts named by role."""
    if any(t.name in roles for t in song.tracks):
        n = 2
        while any(t.name == f"{roles[0]} {n}" for t in song.tracks):
            n += 1
        return f" {n}"
    return ""


def job_input(song: Song, plan: GenerationPlan, melody: int
              ) -> tuple[Song, list[str] | None, int]:
    """What the worker generates from: a copy of the song, the parts to generate (None:
    all) and the melody track's index in that copy."""
    tracks = [plan.roles[r] for r in plan.regenerate]
    if plan.mode == "add":
        job_song = song.copy()
        # alongside: generate fresh, but never let existing parts steer it
        tracks_arg = tracks if len(tracks) < len(plan.roles) else None
        job_song.tracks = [job_song.tracks[melody]]
        return job_song, tracks_arg, 0
    # the parts already there (hand edits, locked and unchosen parts) are the context
    # the model inpaints the chosen bars and parts around; another style's parts are not
    job_song = song.copy()
    if plan.foreign:
        job_song.tracks = [t for i, t in enumerate(job_song.tracks) if i not in plan.foreign]
        melody -= sum(1 for i in plan.foreign if i < melody)
    return job_song, tracks, melody


def plan_edits(plan: GenerationPlan, candidate: list[Track]) -> list:
    """The edits that put ``candidate`` (one track per role of the model) into the song."""
    edits = [SetTrackProperties(plan.targets[r], **changes)
             for r, changes in plan.retarget.items() if r in plan.regenerate]
    lo, hi = plan.region
    for r in plan.regenerate:
        track = candidate[r]
        target = plan.targets.get(r)
        if target is None:
            fresh = track.copy()
            fresh.name = track.name + plan.suffix
            edits.append(AddTrack(fresh))
        else:
            notes = [n for n in track.notes if lo <= n.start < hi]
            edits.append(ReplaceRange(target, lo, hi, notes))
    # last and from the end, so the indices above stay right
    edits += [RemoveTrack(i) for i in sorted(plan.remove, reverse=True)]
    return edits
