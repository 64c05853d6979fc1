"""The main window: roll editor in the middle, track list dock, menus, tool bar, status.

Panels of later features (transport, mixer, on-screen keyboard, generation) plug in with
:meth:`MainWindow.add_panel`, which docks them, lists them in View > Panels and lets the
saved window state restore them by object name.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QByteArray, Qt, Signal
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDockWidget,
    QFileDialog,
    QInputDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QWidget,
)

from composer_gui import APP_NAME, settings
from composer_gui.core.errors import UserError
from composer_gui.core.song import Song, Track
from composer_gui.ui import editing, files
from composer_gui.ui.document import GRID_CHOICES, LENGTH_CHOICES, Document
from composer_gui.ui.editor import RollEditor
from composer_gui.ui.rollrender import bar_at
from composer_gui.ui.songsettings import SongSettingsDialog
from composer_gui.ui.tracklist import TrackList

log = logging.getLogger(__name__)


def new_song() -> Song:
    """The song of File > New: one empty melody track at 120 bpm, 4/4."""
    return Song(tracks=[Track(name="Melody", role="melody")])


class MainWindow(QMainWindow):
    """The editor window. ``document`` is the open song; ``editor.roll`` the canvas."""

    song_loaded = Signal(str)
    song_saved = Signal(str)
    #: Emitted with (title, text) just before an error dialog opens.
    error_shown = Signal(str, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("MainWindow")
        self.document = Document(new_song(), self)
        self.editor = RollEditor(self.document)
        self.roll = self.editor.roll
        self.setCentralWidget(self.editor)
        self.setAcceptDrops(True)
        self.panels: dict[str, QDockWidget] = {}
        self.shortcuts_dialog = None  # Help > Keyboard Shortcuts, once opened
        self._layout_restored = False
        self.autosaver = files.Autosaver(self.document, self)

        self.track_list = TrackList(self.document)
        self._build_actions()
        self._build_menus()
        self._build_toolbar()
        self._build_status()
        self.add_panel("tracks", "Tracks", self.track_list, Qt.DockWidgetArea.LeftDockWidgetArea)
        # -- issue 8: the Generate panel, its menu and PNG export (generate_menu.install)
        from composer_gui.ui import generate_menu

        self.generate_panel = generate_menu.install(self)
        # -- issue 4: transport, mixer, keyboard, sound (live_menu.install; start() is
        # called by run_app so that tests choose what a window loads)
        from composer_gui.ui import live_menu

        self.live = live_menu.install(self)
        # -- issue 9: Tools > Fine-tune (the window is built on first use)
        from composer_gui.ui import finetune

        self.finetune = finetune.install(self)

        doc = self.document
        doc.modified_changed.connect(self._update_title)
        doc.path_changed.connect(self._update_title)
        doc.song_replaced.connect(self._update_title)
        doc.state.selection_changed.connect(self._update_status)
        doc.state.grid_changed.connect(self._update_status)
        doc.state.playhead_moved.connect(lambda _t: self._update_status())
        self.roll.hover_moved.connect(self._on_hover)
        self.editor.ruler.settings_requested.connect(lambda _t: self.song_settings_dialog())
        self._load_settings()
        self._update_title()
        self._update_status()
        self.resize(1280, 800)  # the first run; a saved geometry overrides it
        self.restore_layout()
        self.roll.setFocus()  # note keys work from the start

    # -- panels (docks) -----------------------------------------------------------------
    def add_panel(self, name: str, title: str, widget: QWidget,
                  area: Qt.DockWidgetArea = Qt.DockWidgetArea.BottomDockWidgetArea,
                  visible: bool = True) -> QDockWidget:
        """Dock a panel; it gets a toggle in View > Panels and its place is remembered."""
        dock = QDockWidget(title, self)
        dock.setObjectName(f"panel_{name}")
        dock.setWidget(widget)
        # A panel added after the saved layout was restored still gets its saved place.
        if not (self._layout_restored and self.restoreDockWidget(dock)):
            self.addDockWidget(area, dock)
            dock.setVisible(visible)
            # New side panels start at their smallest comfortable width: the roll is
            # what the user came for and must keep most of the window.
            if area in (Qt.DockWidgetArea.LeftDockWidgetArea,
                        Qt.DockWidgetArea.RightDockWidgetArea):
                self.resizeDocks([dock], [widget.minimumSizeHint().width()],
                                 Qt.Orientation.Horizontal)
        self.panels[name] = dock
        self.panels_menu.addAction(dock.toggleViewAction())
        return dock

    # -- construction ---------------------------------------------------------------------
    def _action(self, text: str, slot, shortcut=None, tip: str = "",
                editor_only: bool = False) -> QAction:
        """An action whose shortcut works anywhere in the window, or (``editor_only``:
        note editing keys like Delete or Ctrl+C) only while the roll editor has focus,
        so that they keep their usual meaning in the track list and dialogs."""
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        if tip:
            action.setStatusTip(tip)
            action.setToolTip(tip)
        action.triggered.connect(slot)
        if editor_only:
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            self.editor.addAction(action)
        else:
            self.addAction(action)
        return action

    def _build_actions(self) -> None:
        doc = self.document
        std = QKeySequence.StandardKey
        self.act_new = self._action("&New", self.new_file, std.New)
        self.act_open = self._action("&Open\u2026", self.open_dialog, std.Open)
        self.act_save = self._action("&Save", self.save, std.Save)
        self.act_save_as = self._action("Save &As\u2026", self.save_as, std.SaveAs)
        self.act_export = self._action("&Export Tracks\u2026", self.export_tracks)
        self.act_quit = self._action("&Quit", self.close, std.Quit)
        self.act_undo = doc.undo_stack.createUndoAction(self, "&Undo")
        self.act_undo.setShortcut(QKeySequence(std.Undo))
        self.act_redo = doc.undo_stack.createRedoAction(self, "&Redo")
        self.act_redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        self.addAction(self.act_undo)
        self.addAction(self.act_redo)
        note_keys = {"editor_only": True}
        self.act_cut = self._action("Cu&t", lambda: editing.cut_selection(doc), std.Cut,
                                    **note_keys)
        self.act_copy = self._action("&Copy", lambda: editing.copy_selection(doc), std.Copy,
                                     **note_keys)
        self.act_paste = self._action("&Paste", lambda: editing.paste(doc), std.Paste,
                                      "Paste at the playhead", **note_keys)
        self.act_duplicate = self._action("D&uplicate", lambda: editing.duplicate_selection(doc),
                                          "Ctrl+D", **note_keys)
        self.act_delete = self._action("&Delete", lambda: editing.delete_selection(doc),
                                       QKeySequence(Qt.Key.Key_Delete), **note_keys)
        self.act_select_all = self._action("Select &All", lambda: editing.select_all(doc),
                                           std.SelectAll, **note_keys)
        self.act_quantize = self._action("&Quantize", self.quantize, "Q",
                                         "Quantize the selection (or the track) to the grid",
                                         **note_keys)
        self.act_quantize_opts = self._action("Quantize with &Strength\u2026",
                                              self.quantize_dialog, "Shift+Q")
        self.act_velocity = self._action("Set &Velocity\u2026", self.velocity_dialog)
        self.act_zoom_in = self._action(
            "Zoom &In", lambda: self.roll.set_zoom(self.roll.geom.px_per_tick * 1.5), "Ctrl+="
        )
        self.act_zoom_out = self._action(
            "Zoom &Out", lambda: self.roll.set_zoom(self.roll.geom.px_per_tick / 1.5), "Ctrl+-"
        )
        self.act_fit = self._action("Zoom to &Fit", self.roll.zoom_to_fit, "Ctrl+0")
        self.act_song = self._action("Song &Settings\u2026", self.song_settings_dialog,
                                     "Ctrl+T", "Tempo, meter and key")
        self.tool_actions: dict[str, QAction] = {}
        group = QActionGroup(self)
        for tool, label, key in (("select", "Select", "1"), ("draw", "Draw", "2"),
                                 ("erase", "Erase", "3"), ("velocity", "Velocity", "4")):
            act = self._action(label, lambda _c=False, t=tool: self.roll.set_tool(t), key,
                               f"{label} tool ({key})")
            act.setCheckable(True)
            group.addAction(act)
            self.tool_actions[tool] = act
        self.tool_actions["select"].setChecked(True)
        self.roll.tool_changed.connect(lambda t: self.tool_actions[t].setChecked(True))

    def _build_menus(self) -> None:
        bar = self.menuBar()
        m = bar.addMenu("&File")
        for act in (self.act_new, self.act_open):
            m.addAction(act)
        self.recent_menu = m.addMenu("Open &Recent")
        m.addSeparator()
        for act in (self.act_save, self.act_save_as, self.act_export):
            m.addAction(act)
        m.addSeparator()
        m.addAction(self.act_quit)
        m = bar.addMenu("&Edit")
        for act in (self.act_undo, self.act_redo, None, self.act_cut, self.act_copy,
                    self.act_paste, self.act_duplicate, self.act_delete, self.act_select_all,
                    None, self.act_quantize, self.act_quantize_opts, self.act_velocity):
            m.addSeparator() if act is None else m.addAction(act)
        m = bar.addMenu("&View")
        for act in (self.act_zoom_in, self.act_zoom_out, self.act_fit):
            m.addAction(act)
        m.addSeparator()
        self.panels_menu = m.addMenu("&Panels")
        m = bar.addMenu("&Song")
        m.addAction(self.act_song)
        m = bar.addMenu("&Tools")
        for act in self.tool_actions.values():
            m.addAction(act)
        m = bar.addMenu("&Help")
        self.act_shortcuts = m.addAction("&Keyboard Shortcuts", self.show_help)
        m.addAction(f"&About {APP_NAME}", self.show_about)
        self._rebuild_recent_menu()

    def _build_toolbar(self) -> None:
        tb = self.addToolBar("Edit")
        tb.setObjectName("toolbar_edit")
        for act in self.tool_actions.values():
            tb.addAction(act)
        tb.addSeparator()
        tb.addWidget(QLabel(" Grid "))
        self.grid_combo = QComboBox()
        self.grid_combo.addItems(GRID_CHOICES)
        self.grid_combo.setToolTip("Snap grid")
        self.grid_combo.currentTextChanged.connect(
            lambda g: self.document.state.set_grid(grid=g))
        tb.addWidget(self.grid_combo)
        self.snap_action = QAction("Snap", self)
        self.snap_action.setCheckable(True)
        self.snap_action.setChecked(True)
        self.snap_action.setToolTip("Snap to the grid")
        self.snap_action.toggled.connect(lambda on: self.document.state.set_grid(snap=on))
        tb.addAction(self.snap_action)
        tb.addWidget(QLabel(" Length "))
        self.length_combo = QComboBox()
        self.length_combo.addItems(LENGTH_CHOICES)
        self.length_combo.setToolTip("Length of a clicked note")
        self.length_combo.currentTextChanged.connect(
            lambda v: self.document.state.set_grid(note_length=v))
        tb.addWidget(self.length_combo)
        tb.addSeparator()
        tb.addAction(self.act_fit)
        tb.addAction(self.act_song)

    def _build_status(self) -> None:
        self.position_label = QLabel()
        self.snap_label = QLabel()
        self.selection_label = QLabel()
        for widget in (self.position_label, self.snap_label, self.selection_label):
            self.statusBar().addPermanentWidget(widget)

    # -- settings -----------------------------------------------------------------------
    def _load_settings(self) -> None:
        state = self.document.state
        grid = settings.get(settings.SNAP_GRID)
        length = settings.get(settings.NOTE_LENGTH)
        state.set_grid(grid=grid if grid in GRID_CHOICES else "1/16",
                       snap=settings.get(settings.SNAP_ENABLED),
                       note_length=length if length in LENGTH_CHOICES else "1/8")
        self.grid_combo.setCurrentText(state.grid)
        self.length_combo.setCurrentText(state.note_length)
        self.snap_action.setChecked(state.snap)
        self.roll.set_zoom(settings.get(settings.ZOOM_X), settings.get(settings.ZOOM_Y))
        self.roll.scroll_to_pitch(66)

    def restore_layout(self) -> None:
        geometry = settings.get(settings.WINDOW_GEOMETRY)
        if geometry:
            self.restoreGeometry(QByteArray(geometry))
        state = settings.get(settings.WINDOW_STATE)
        if state:
            self.restoreState(QByteArray(state))
        self._layout_restored = True

    def save_settings(self) -> None:
        state = self.document.state
        settings.put(settings.WINDOW_GEOMETRY, bytes(self.saveGeometry().data()))
        settings.put(settings.WINDOW_STATE, bytes(self.saveState().data()))
        settings.put(settings.SNAP_GRID, state.grid)
        settings.put(settings.SNAP_ENABLED, state.snap)
        settings.put(settings.NOTE_LENGTH, state.note_length)
        settings.put(settings.ZOOM_X, self.roll.geom.px_per_tick)
        settings.put(settings.ZOOM_Y, self.roll.geom.row_height)
        settings.sync()

    # -- status -------------------------------------------------------------------------
    def _update_title(self, *_args) -> None:
        doc = self.document
        # an unsaved song (a sample opened as a template) goes by its title
        name = Path(doc.path).name if doc.path else (doc.song.title.strip() or "Untitled")
        self.setWindowTitle(f"{name}[*] \u2014 {APP_NAME}")
        self.setWindowModified(doc.modified)

    def _on_hover(self, tick: int, pitch: int) -> None:
        from composer_gui.ui.lanes import pitch_name

        number, start, beat, _beats = bar_at(self.document.song, max(0, tick))
        beat_no = (max(0, tick) - start) // beat + 1
        name = pitch_name(pitch) if 0 <= pitch <= 127 else ""
        self.position_label.setText(f"Bar {number}.{beat_no}  {name}")

    def _update_status(self) -> None:
        state = self.document.state
        self.snap_label.setText(f"Snap {state.grid}" if state.snap else "Snap off")
        count = len(state.selection)
        self.selection_label.setText(f"{count} selected" if count else "")

    # -- dialogs ------------------------------------------------------------------------
    def show_error(self, title: str, text: str) -> None:
        """A plain message for the user (details, if any, are in the log file)."""
        self.error_shown.emit(title, text)
        box = QMessageBox(QMessageBox.Icon.Warning, title, text,
                          QMessageBox.StandardButton.Ok, self)
        box.setObjectName("error_dialog")
        box.exec()

    def confirm_discard(self) -> bool:
        """Ask to save a modified song; False when the user cancels."""
        if not self.document.modified:
            return True
        box = QMessageBox(QMessageBox.Icon.Question, APP_NAME,
                          "The song has been modified. Save the changes?",
                          QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
                          | QMessageBox.StandardButton.Cancel, self)
        box.setObjectName("save_prompt")
        answer = box.exec()
        if answer == QMessageBox.StandardButton.Save:
            return self.save()
        return answer == QMessageBox.StandardButton.Discard

    # -- files --------------------------------------------------------------------------
    def new_file(self) -> None:
        if self.confirm_discard():
            self.autosaver.clear()
            self.document.replace_song(new_song())

    def open_dialog(self) -> None:
        if not self.confirm_discard():
            return
        path, _ = QFileDialog.getOpenFileName(self, "Open MIDI file",
                                              str(files.start_folder()), files.MIDI_FILTER)
        if path:
            self.open_file(path, ask=False)

    def open_file(self, path: str, ask: bool = True) -> bool:
        """Open a MIDI file; on a bad file show why and keep the current song."""
        if ask and not self.confirm_discard():
            return False
        try:
            song = files.read_song(path)
        except UserError as exc:
            log.info("cannot open %s: %s", path, exc)
            self.show_error("Cannot open file", str(exc))
            return False
        except Exception as exc:
            log.exception("unexpected error reading %s", path)
            self.show_error("Cannot open file",
                            f"{path}: unexpected error ({type(exc).__name__}); "
                            "see the log file for details")
            return False
        self.autosaver.clear()
        # a bundled sample opens as a template: Save asks where, never overwrites it
        self.document.replace_song(song, "" if files.is_bundled(path)
                                   else str(Path(path).resolve()))
        self.roll.zoom_to_fit()
        self._remember(path)
        self.song_loaded.emit(path)
        return True

    def save(self) -> bool:
        if not self.document.path:
            return self.save_as()
        return self._write(self.document.path)

    def save_as(self) -> bool:
        title = self.document.song.title.strip() or "song"
        start = self.document.path or str(files.start_folder() / f"{title}.mid")
        path, _ = QFileDialog.getSaveFileName(self, "Save MIDI file", start, files.MIDI_FILTER)
        if not path:
            return False
        if not path.lower().endswith(files.MIDI_SUFFIXES):
            path += ".mid"
        return self._write(path)

    def _write(self, path: str) -> bool:
        try:
            files.write_song(self.document.song, path)
        except (UserError, OSError) as exc:
            log.exception("cannot save %s", path)
            self.show_error("Cannot save file", f"{path}: {exc}")
            return False
        self.document.mark_saved(str(Path(path).resolve()))
        self._remember(path)
        self.song_saved.emit(path)
        self.statusBar().showMessage(f"Saved {path}", 4000)
        return True

    def export_tracks(self) -> None:
        """File > Export Tracks: which tracks (all ticked) and where (ui/export_tracks.py)."""
        from composer_gui.ui.export_tracks import export_tracks_dialog

        export_tracks_dialog(self)

    def export_tracks_to(self, indices: list[int], path: str) -> bool:
        try:
            files.write_song(files.song_with_tracks(self.document.song, indices), path)
        except (UserError, OSError) as exc:
            log.exception("cannot export %s", path)
            self.show_error("Cannot export", f"{path}: {exc}")
            return False
        return True

    def _remember(self, path: str) -> None:
        files.remember_recent(path)
        self._rebuild_recent_menu()

    def _rebuild_recent_menu(self) -> None:
        menu = self.recent_menu
        menu.clear()
        recent = settings.get(settings.RECENT_FILES)
        for path in recent:
            act = menu.addAction(Path(path).name)
            act.setToolTip(path)
            act.triggered.connect(lambda _c=False, p=path: self.open_file(p))
        menu.setEnabled(bool(recent))

    def offer_recovery(self) -> bool:
        """After a crash, offer the newest autosave; returns whether one was restored."""
        found = files.find_recoverable()
        if not found:
            return False
        latest = found[0]
        name = Path(latest.original).name if latest.original else "an untitled song"
        box = QMessageBox(QMessageBox.Icon.Question, "Recover song",
                          f"{APP_NAME} did not close properly. Recover the unsaved changes "
                          f"to {name}?",
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                          self)
        box.setObjectName("recovery_prompt")
        recovered = False
        if box.exec() == QMessageBox.StandardButton.Yes:
            try:
                song = files.read_song(latest.song_path)
            except UserError as exc:
                self.show_error("Cannot recover", str(exc))
            else:
                self.document.replace_song(song, latest.original)
                self.document.undo_stack.resetClean()  # unsaved until the user saves
                self.document.modified_changed.emit(True)
                self.roll.zoom_to_fit()
                recovered = True
        for item in found:
            item.discard()
        if recovered:
            self.autosaver.save_now()
        return recovered

    def show_help(self) -> None:
        """Help > Keyboard Shortcuts: the table built from the actions themselves."""
        from composer_gui.ui.shortcuts import ShortcutsDialog

        if self.shortcuts_dialog is not None:
            self.shortcuts_dialog.close()
            self.shortcuts_dialog.deleteLater()
        self.shortcuts_dialog = ShortcutsDialog(self)
        self.shortcuts_dialog.show()

    def show_about(self) -> None:
        from composer_gui import __version__

        QMessageBox.about(self, f"About {APP_NAME}",
                          f"<b>{APP_NAME}</b> {__version__}<br>Melody in, accompaniment out."
                          "<br>Free software under the GNU GPL, version 3 or later.")

    # -- song / edit dialogs ------------------------------------------------------------
    def song_settings_dialog(self) -> None:
        dialog = SongSettingsDialog(self.document, self)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            dialog.apply()

    def quantize(self) -> None:
        editing.quantize(self.document, strength=settings.get(settings.QUANTIZE_STRENGTH))

    def quantize_dialog(self) -> None:
        value, ok = QInputDialog.getInt(self, "Quantize", "Strength (%)",
                                        settings.get(settings.QUANTIZE_STRENGTH), 0, 100)
        if ok:
            settings.put(settings.QUANTIZE_STRENGTH, value)
            editing.quantize(self.document, strength=value)

    def velocity_dialog(self) -> None:
        sel = editing.selection(self.document)
        if not sel:
            return
        value, ok = QInputDialog.getInt(self, "Velocity", "Velocity of the selected notes",
                                        sel[0].velocity, 1, 127)
        if ok:
            editing.set_velocity(self.document, sel, value)

    # -- window events ------------------------------------------------------------------
    def dragEnterEvent(self, event) -> None:  # noqa: N802
        urls = event.mimeData().urls()
        if urls and urls[0].toLocalFile().lower().endswith(files.MIDI_SUFFIXES):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802
        urls = event.mimeData().urls()
        if urls:
            event.acceptProposedAction()
            self.open_file(urls[0].toLocalFile())

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        if not self.confirm_discard():
            event.ignore()
            return
        self.save_settings()
        self.autosaver.timer.stop()
        self.autosaver.clear()
        self.generate_panel.shutdown()  # issue 8: stop the generation thread
        self.finetune.shutdown()  # issue 9: a running fine-tune saves and stops
        self.live.shutdown()  # issue 4: playback, ports, audio device
        event.accept()
