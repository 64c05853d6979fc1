"""What the Generate panel says about a style, written for musicians: what it plays, the
parts it writes and the GM instruments they sound on (1-128, as everywhere in the app),
the meters it learned, and a sample melody to try it on; the model card itself (data,
training, measures) is one click away in :class:`ModelCardDialog`.

Read from the model's config file only (no torch); a user's fine-tuned model is described
by the style it came from and the folder it learned from.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout, QWidget

from composer_gui.core.gm import instrument_label

#: What each shipped style plays, in a musician's words.
STYLE_WORDS = {
    "pop": "a band under a song melody: a bass line, piano chords, a string line that comes "
           "and goes, and a drum kit",
    "folk": "guitar chords and a bass line under a folk tune (reels, jigs, hornpipes, "
            "waltzes and marches from the British and Irish tradition)",
    "chorale": "alto, tenor and bass voices under your melody as the soprano, in the manner "
               "of Bach's four-part chorales",
}
#: The sample melody (a file stem in the package's melodies) each style is shown with.
STYLE_SAMPLES = {"pop": "ode_to_joy", "folk": "frere_jacques", "chorale": "amazing_grace"}


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def sample_title(stem: str) -> str:
    """A sample file's title as a musician writes it ("Ode To Joy")."""
    return stem.replace("_", " ").title()


def style_summary(config, source: str = "shipped") -> str:
    """The panel's text about a model (plain text, a few short lines)."""
    style = config.style
    training = config.training or {}
    words = STYLE_WORDS.get(style)
    if source == "shipped" and words:
        plays = f"Plays {words}."
    else:
        base = training.get("base")
        data = training.get("data")
        plays = f"Your {style} model" + (f", fine-tuned from {Path(str(base)).name}"
                                         if base else "")
        plays += (f" on the MIDI files in {Path(str(data)).name}." if data else ".")
        if words:
            plays += f" Plays {words}."
    roles = config.output_roles()
    sounds = [instrument_label(r.program, r.is_drum) for r in roles]
    if len(set(sounds)) == 1:
        sound_text = f"all as {sounds[0]}"
    else:
        sound_text = "as " + _and(sounds)
    meters = list(config.meters)
    meter_text = (f"Learned in {_and(meters)}; other meters are played in beat groups "
                  f"of {'those' if len(meters) > 1 else 'it'}.")
    return "\n".join([plays,
                      f"Writes {', '.join(r.name for r in roles)}, {sound_text}.",
                      meter_text])


class ModelCardDialog(QDialog):
    """The model card (its README.md) in full, rendered."""

    def __init__(self, folder: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("model_card")
        self.setWindowTitle(f"Model card: {Path(folder).name}")
        self.resize(760, 640)
        layout = QVBoxLayout(self)
        self.browser = QTextBrowser()
        self.browser.setOpenExternalLinks(True)
        card = Path(folder) / "README.md"
        try:
            self.browser.setMarkdown(card.read_text(encoding="utf-8"))
        except OSError as exc:
            self.browser.setPlainText(f"{card}: {exc.strerror or exc}")
        layout.addWidget(self.browser)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout.addWidget(buttons)
