"""Model configuration: one dataclass saved as ``config.json`` beside the weights.

Like nanoGPT, every model folder carries the config it was built from, and loading
rebuilds the networks from it. Nothing here imports torch, so the command line and the
window can list models and read their roles cheaply.

Styles are role templates (:data:`STYLES`): ``train --style NAME`` starts from one.
Later styles (pop, folk) add their own entries; the machinery reads everything it needs
(roles, grid, window, meters, pitch range, decoding) from the config.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from composer_gui.ml.errors import ModelError

#: Bumped when the meaning of the weights or the config changes incompatibly.
FORMAT_VERSION = 1
CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"
CARD_NAME = "README.md"
#: ``RoleSpec.voices`` of a block-chord part.
BLOCK_CHORDS = -1

#: The key guard's view of the melody, in windows before and after a window's start
#: (3 and 4: 28 bars of 4/4 around a window). Shorter spans (12 bars) followed the melody's
#: local tonal centre too closely: a verse that leans on the relative minor was taken for
#: a key change, and the strings' notes fit the song's key less often (0.89 against 0.95).
KEY_SPAN = (3, 4)


@dataclass
class RoleSpec:
    """One generated part.

    ``name`` is the output track's exact name; ``role`` the Track.role it gets;
    ``aliases`` are lower-case track-name fragments that identify the part in training
    files; ``register`` is the part's typical mean MIDI pitch (used to map unnamed
    tracks by register); ``voices`` = 1 decodes a monophonic line (one note at a time),
    0 allows any number of simultaneous notes (each pitch on its own), 2 or more decodes
    chords of up to that many notes, :data:`BLOCK_CHORDS` decodes chords whose notes start
    and end together (see :mod:`composer_gui.ml.generate.decode`). ``bar_gate`` > 0 silences the
    bars where the part's expected number of sounding pitches is under it
    (``decode.gate_bars``: a part that plays in some sections only). One-voice parts may
    carry a model of their line (``decode.LinePrior``, used when the model's
    ``line_prior`` is above 0), fitted on training songs
    (:mod:`composer_gui.ml.generate.fit_lines`): weights of the step from note to note
    (``line_steps``, -12..+12 semitones), of each pitch (``line_register``, the model's
    pitch axis) and of the interval above the melody (``line_melody``, 0..11), and the
    data's rate of note starts at each position in the beat (``line_onsets``).
    """

    name: str
    role: str
    program: int = 0
    channel: int = 0
    is_drum: bool = False
    aliases: list[str] = field(default_factory=list)
    register: float = 60.0
    voices: int = 0
    bar_gate: float = 0.0
    line_steps: list[float] | None = None
    line_register: list[float] | None = None
    line_melody: list[float] | None = None
    line_onsets: list[float] | None = None


@dataclass
class ModelConfig:
    """Everything needed to rebuild, feed and decode a model."""

    style: str
    roles: list[RoleSpec]
    steps_per_beat: int = 4
    #: Supported meters as "N/D" strings; generation refuses any other.
    meters: list[str] = field(default_factory=lambda: ["4/4", "3/4"])
    #: Bars per generation window (counted in 4/4 bars: the window is
    #: ``window_steps`` long and starts on a bar line).
    bars_per_window: int = 4
    lowest: int = 36
    highest: int = 84
    noise_dim: int = 32
    gen_width: int = 192
    gen_blocks: int = 6
    critic_width: int = 128
    critic_blocks: int = 4
    #: Pitch-drawing temperature of the decoder (0: always the likeliest pitch).
    temperature: float = 1.0
    melody_aliases: list[str] = field(
        default_factory=lambda: ["melody", "soprano", "lead", "vocal", "voice", "tune"]
    )
    #: Meter one-hot + the meter's own beats in the position features, pickups and short
    #: bars read leniently (:mod:`composer_gui.ml.data.meters`); False keeps the plain features.
    meter_aware: bool = False
    #: Generation: the weight of pitches outside the key around each window (from the
    #: melody and the steady parts, :data:`KEY_SPAN`) in the decoder's pitch choice;
    #: 0 allows in-key pitches only, 1.0 leaves the choice alone.
    key_guard: float = 1.0
    #: Generation: the weight of a new note of a one-voice part that would clash a
    #: semitone with another voice on the beat or move in parallel fifths or octaves with
    #: it (:class:`composer_gui.ml.generate.decode.VoiceLeading`); 1.0 leaves the choice
    #: alone (the network's own voice leading), 0 forbids them where anything else is
    #: likely.
    voice_leading: float = 1.0
    #: Generation: the weight (an exponent, 0: off) of the data's note-to-note steps in
    #: the pitch choice of one-voice parts that carry ``line_steps``; above 0 their notes
    #: also start only where the data's ``line_onsets`` start them
    #: (:class:`composer_gui.ml.generate.decode.LinePrior`).
    line_prior: float = 0.0
    #: Generation: block chords keep no two notes a semitone apart (pitch classes; the
    #: likelier note stays, :func:`composer_gui.ml.generate.decode.without_semitones`).
    chord_rule: bool = False
    #: Training data: skip songs with fewer than this share of their onsets exactly on
    #: the grid (unquantized performances; 0 keeps every song).
    min_grid_share: float = 0.0
    #: Training data: True keeps songs that have bars of unsupported meters (pickups,
    #: POP909's odd 2- and 6-beat bars) and drops only the windows touching such bars;
    #: False refuses the whole song.
    drop_odd_windows: bool = False
    #: A drum sub-model folder, relative to the model's folder (``"drums"``: a
    #: :mod:`composer_gui.ml.drums` model), that writes the ``drum_role`` track after the
    #: pitched parts; None: no drum part.
    drums: str | None = None
    drum_role: RoleSpec | None = None
    #: Where the weights came from (filled by training).
    training: dict[str, Any] = field(default_factory=dict)
    version: int = FORMAT_VERSION

    # ----- derived sizes -------------------------------------------------------------
    @property
    def pitches(self) -> int:
        return self.highest - self.lowest + 1

    @property
    def tracks(self) -> int:
        return len(self.roles)

    @property
    def max_bar_steps(self) -> int:
        """The longest bar of any supported meter, in steps."""
        return max(self.bar_steps(m) for m in self.meters)

    @property
    def window_steps(self) -> int:
        return self.bars_per_window * 4 * self.steps_per_beat

    @property
    def position_features(self) -> int:
        """Per-step position inputs: step-in-bar one-hot, step-in-beat one-hot, bar
        start, beat start, padding (+ meter one-hot and main beat when ``meter_aware``)."""
        extra = len(self.meters) + 1 if self.meter_aware else 0
        return self.max_bar_steps + self.steps_per_beat + 3 + extra

    def bar_steps(self, meter: str) -> int:
        num, den = (int(x) for x in meter.split("/"))
        steps = num * 4 * self.steps_per_beat / den
        if steps != int(steps):
            raise ModelError(f"meter {meter} does not fit a grid of {self.steps_per_beat} steps per beat")
        return int(steps)

    @property
    def has_drums(self) -> bool:
        return bool(self.drums) and self.drum_role is not None

    def output_roles(self) -> list[RoleSpec]:
        """Every track the model writes, in output order: the generator's ``roles``, then
        the drum sub-model's track (when there is one)."""
        return [*self.roles, self.drum_role] if self.has_drums else list(self.roles)

    def role_names(self) -> list[str]:
        """Names of the tracks the model writes (see :meth:`output_roles`)."""
        return [r.name for r in self.output_roles()]

    # ----- persistence -----------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str = "config") -> ModelConfig:
        if not isinstance(data, dict):
            raise ModelError(f"{where}: not a JSON object")
        version = data.get("version")
        if version != FORMAT_VERSION:
            raise ModelError(
                f"{where}: model format version {version!r}, this program reads version "
                f"{FORMAT_VERSION}"
            )
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ModelError(f"{where}: unknown keys {', '.join(unknown)}")
        try:
            values = dict(data)
            values["roles"] = [RoleSpec(**r) for r in data["roles"]]
            if data.get("drum_role") is not None:
                values["drum_role"] = RoleSpec(**data["drum_role"])
            config = cls(**values)
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelError(f"{where}: malformed config ({exc})") from exc
        config.validate(where)
        return config

    def validate(self, where: str = "config") -> None:
        """Raise ModelError when the values cannot describe a model."""
        problems = []
        if not self.roles:
            problems.append("no roles")
        if not (0 <= self.lowest < self.highest <= 127):
            problems.append(f"pitch range {self.lowest}..{self.highest}")
        if self.steps_per_beat < 1 or self.bars_per_window < 1:
            problems.append("grid or window size below 1")
        for r in self.output_roles():
            if not (0 <= r.program <= 127 and 0 <= r.channel <= 15):
                problems.append(f"role {r.name}: program/channel out of range")
        try:
            for m in self.meters:
                self.bar_steps(m)
        except (ValueError, ModelError) as exc:
            problems.append(str(exc))
        if self.drums and (Path(self.drums).is_absolute() or ".." in Path(self.drums).parts):
            problems.append(f"drums folder {self.drums!r} must lie inside the model's folder")
        if not 0.0 <= self.key_guard <= 1.0:
            problems.append(f"key_guard {self.key_guard} outside 0..1")
        if not 0.0 <= self.voice_leading <= 1.0:
            problems.append(f"voice_leading {self.voice_leading} outside 0..1")
        if not 0.0 <= self.line_prior <= 4.0:
            problems.append(f"line_prior {self.line_prior} outside 0..4")
        sizes = {"line_steps": 25, "line_register": self.pitches, "line_melody": 12,
                 "line_onsets": self.steps_per_beat}
        for r in self.roles:
            for name, size in sizes.items():
                values = getattr(r, name)
                if values is not None and (len(values) != size or min(values) < 0):
                    problems.append(f"role {r.name}: {name} must hold {size} values >= 0")
        if not 0.0 <= self.min_grid_share <= 1.0:
            problems.append(f"min_grid_share {self.min_grid_share} outside 0..1")
        if problems:
            raise ModelError(f"{where}: " + "; ".join(problems))

    def save(self, folder: Path) -> Path:
        path = Path(folder) / CONFIG_NAME
        path.write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")
        return path

    @classmethod
    def load(cls, folder: Path) -> ModelConfig:
        path = Path(folder) / CONFIG_NAME
        return cls.from_dict(read_config_json(path), str(path))


def read_config_json(path: Path) -> dict:
    """The JSON object of a model's (or sub-model's) config file, or a ModelError naming
    what is wrong with it."""
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"{path.parent}: missing {path.name}")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"{path}: unreadable or corrupt JSON ({exc})") from exc


def apply_overrides(config, overrides: dict, what: str = "config"):
    """Set ``config``'s fields from ``overrides`` (``train``'s config overrides), refusing
    keys it does not have, then validate it."""
    for key, value in overrides.items():
        if not hasattr(config, key):
            raise ModelError(f"unknown {what} key {key!r}")
        setattr(config, key, value)
    config.validate()
    return config


def _chorale() -> ModelConfig:
    return ModelConfig(
        style="chorale",
        roles=[
            RoleSpec("Alto", "alto", program=52, channel=1, aliases=["alto", "contralto"],
                     register=65, voices=1),
            RoleSpec("Tenor", "tenor", program=52, channel=2, aliases=["tenor"],
                     register=59, voices=1),
            RoleSpec("Bass", "bass", program=52, channel=3, aliases=["bass", "basso"],
                     register=50, voices=1),
        ],
        steps_per_beat=4,
        meters=["4/4", "3/4", "3/2"],
        bars_per_window=4,
        lowest=31,
        highest=84,
        melody_aliases=["soprano", "melody", "cantus", "lead", "voice", "tune"],
    )


def _folk() -> ModelConfig:
    # Nottingham tunes (composer_gui.ml.data.sources.nottingham): block chords moved up an
    # octave (MIDI 48-65) and their lowest voice as the bass (MIDI 36-50).
    return ModelConfig(
        style="folk",
        roles=[
            RoleSpec("Chords", "chords", program=25, channel=1,
                     aliases=["chord", "guitar", "accomp", "harmony", "piano"],
                     register=57, voices=BLOCK_CHORDS),
            RoleSpec("Bass", "bass", program=32, channel=2, aliases=["bass"],
                     register=43, voices=1),
        ],
        steps_per_beat=4,
        meters=["4/4", "3/4", "6/8", "2/4", "9/8", "2/2"],
        bars_per_window=4,
        lowest=28,
        highest=88,
        melody_aliases=["melody", "tune", "lead", "soprano", "voice"],
        meter_aware=True,
    )


def _pop() -> ModelConfig:
    """POP909's parts under its melody (see ``composer_gui.ml.data.sources.pop909``) and a
    Groove-trained drum sub-model. Trained on 4/4 (other meters play in 4/4 beat groups,
    ``ml.data.meters.known_beats``): POP909 holds 25 songs in 3/4 and 22 in 6/8,
    too few to learn those meters from."""
    return ModelConfig(
        style="pop",
        roles=[
            RoleSpec("Bass", "bass", program=33, channel=1, aliases=["bass"],
                     register=45, voices=1, bar_gate=0.6),
            RoleSpec("Piano", "piano", program=0, channel=2,
                     aliases=["piano", "keys", "chord", "accomp"], register=60, voices=8),
            RoleSpec("Strings", "strings", program=48, channel=3,
                     aliases=["strings", "string", "bridge", "pad", "counter"],
                     register=72, voices=1, bar_gate=0.54),
        ],
        steps_per_beat=4,
        meters=["4/4"],
        bars_per_window=4,
        lowest=28,
        highest=96,
        key_guard=0.0,
        min_grid_share=0.95,
        drop_odd_windows=True,
        drums="drums",
        drum_role=RoleSpec("Drums", "drums", program=0, channel=9, is_drum=True,
                           aliases=["drum", "kit", "perc"], register=40, voices=0),
        melody_aliases=["melody", "lead", "vocal", "voice", "tune", "soprano"],
    )


#: Role templates by style name (``train --style NAME``).
STYLES = {"chorale": _chorale, "pop": _pop, "folk": _folk}


def style_config(name: str) -> ModelConfig:
    """A fresh config for a named style."""
    try:
        return STYLES[name]()
    except KeyError:
        raise ModelError(
            f"unknown style {name!r} (known: {', '.join(sorted(STYLES))})"
        ) from None
