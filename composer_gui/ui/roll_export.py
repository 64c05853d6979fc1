"""Export the piano roll as a PNG image (File > Export Piano Roll Image): a grab of the
editor (ruler, notes, velocity lane) saved where the user picks, with an error dialog
when the file cannot be written.
"""

from __future__ import annotations

from PySide6.QtWidgets import QFileDialog


def export_roll_png(window, path: str) -> bool:
    """Save an image of the piano roll (ruler, notes, velocity lane) as PNG."""
    pixmap = window.editor.grab()
    ok = pixmap.save(path, "PNG")
    if not ok:
        window.show_error("Cannot export image", f"{path}: could not write the PNG file")
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
