"""Export the piano roll as a PNG image (File > Export Piano Roll Image): a grab of the
editor (ruler, notes, velocity lane) saved where the user picks, with an error dialog
when the file cannot be written.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog

from composer_gui import settings


def export_roll_png(window, path: str) -> bool:
    """Save an image of the piano roll (ruler, notes, velocity lane) as PNG."""
    pixmap = window.editor.grab()
    ok = pixmap.save(path, "PNG")
    if not ok:
        window.show_error("Cannot export image", f"{path}: could not write the PNG file")
    return ok


def export_roll_png_dialog(window) -> None:
    """Ask where to save the image (``.png`` is added when missing), then save it."""
    path, _ = QFileDialog.getSaveFileName(window, "Export piano roll image",
                                          str(Path(settings.get(settings.LAST_FOLDER))
                                              / "pianoroll.png"), "PNG images (*.png)")
    if path:
        if not path.lower().endswith(".png"):
            path += ".png"
        export_roll_png(window, path)
