"""Export the song as a piano-roll picture (File > Export Piano Roll Image): the whole
song, every bar and every track, drawn on its own (no scroll bars, no selection colours,
whatever part of it the editor shows), with bar numbers above and the tracks' names and
colours below; saved where the user picks, with an error dialog when the file cannot be
written.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPen
from PySide6.QtWidgets import QFileDialog

from composer_gui.core.song import Song
from composer_gui.core.timing import TimeMap
from composer_gui.ui.pianoroll import BLACK_KEYS, track_color

#: Pixels per beat and per semitone, the widest picture, and the margins.
PX_PER_BEAT = 24
ROW = 6
MAX_WIDTH = 12_000
RULER = 22
LEGEND_ROW = 18
LEFT = 40


def song_image(song: Song) -> QImage:
    """The whole song as a piano roll (see the module docstring)."""
    notes = [(i, n) for i, t in enumerate(song.tracks) for n in t.notes]
    tpb = song.ticks_per_beat
    end = max(song.end_tick, tpb * 4)
    px_per_tick = min(PX_PER_BEAT / tpb, (MAX_WIDTH - LEFT - 10) / end)
    low = min((n.pitch for _i, n in notes), default=60) - 2
    high = max((n.pitch for _i, n in notes), default=72) + 2
    rows = high - low + 1
    legend = LEGEND_ROW * max(1, len(song.tracks))
    width = LEFT + int(end * px_per_tick) + 10
    height = RULER + rows * ROW + 8 + legend
    image = QImage(width, height, QImage.Format.Format_RGB32)
    image.fill(QColor("white"))
    p = QPainter(image)
    try:
        font = QFont(p.font())
        font.setPixelSize(11)
        p.setFont(font)

        def y_of(pitch: int) -> int:
            return RULER + (high - pitch) * ROW

        for pitch in range(low, high + 1):  # black keys shaded, C rows named
            if pitch % 12 in BLACK_KEYS:
                p.fillRect(LEFT, y_of(pitch), width - LEFT, ROW, QColor("#eeeeee"))
            if pitch % 12 == 0:
                p.setPen(QColor("#888888"))
                p.drawText(2, y_of(pitch) + ROW, f"C{pitch // 12 - 1}")
        time_map = TimeMap.of(song)
        for bar in range(time_map.bar_count(end) + 1):
            x = LEFT + time_map.bar_to_tick(bar) * px_per_tick
            p.setPen(QPen(QColor("#b0b0b0"), 1))
            p.drawLine(round(x), RULER, round(x), RULER + rows * ROW)
            if bar < time_map.bar_count(end):
                p.setPen(QColor("#404040"))
                p.drawText(round(x) + 2, RULER - 6, str(bar + 1))
        for i, note in notes:
            colour = QColor(track_color(song, i))
            colour.setAlpha(110 + note.velocity)
            rect = QRectF(LEFT + note.start * px_per_tick, y_of(note.pitch),
                          max(2.0, note.duration * px_per_tick - 1), ROW - 1)
            p.fillRect(rect, colour)
        y = RULER + rows * ROW + 8
        for i, track in enumerate(song.tracks):
            p.fillRect(LEFT, y + 3, 12, 12, QColor(track_color(song, i)))
            p.setPen(QColor("black"))
            p.drawText(LEFT + 18, y + 13, track.name or f"Track {i + 1}")
            y += LEGEND_ROW
    finally:
        p.end()
    image.setText("Title", song.title or "")
    return image


def export_roll_png(window, path: str) -> bool:
    """Save the whole song as a piano-roll PNG."""
    ok = song_image(window.document.song).save(path, "PNG")
    if not ok:
        window.show_error("Cannot export image", f"{path}: could not write the PNG file")
    else:
        window.statusBar().showMessage(f"Exported the piano roll to {path}", 6000)
    return ok


def export_roll_png_dialog(window) -> None:
    """Ask where to save the image (``.png`` is added when missing), then save it."""
    from composer_gui.ui.files import remember_folder, start_folder

    path, _ = QFileDialog.getSaveFileName(window, "Export piano roll image",
                                          str(start_folder() / "pianoroll.png"),
                                          "PNG images (*.png)")
    if path:
        if not path.lower().endswith(".png"):
            path += ".png"
        remember_folder(path)
        export_roll_png(window, path)
