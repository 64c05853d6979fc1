"""Port layer: API choice, matching by name, hot-plug, open/close under traffic."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from composer_gui.midi.ports import (
    MidiApiError,
    MidiInput,
    MidiOutput,
    NoSuchPortError,
    PortWatcher,
    list_ports,
    match_port,
    resolve_api,
)

from .conftest import REPO

NAMES = ["Midi Through:Midi Through Port-0 14:0", "KeyLab 49:KeyLab 49 MIDI 24:0",
         "KeyLab 49:KeyLab 49 DAW 24:1", "keylab"]


def test_exact_name_wins_over_substring():
    assert match_port("keylab", NAMES) == "keylab"


def test_case_insensitive_substring_match():
    assert match_port("through", NAMES) == NAMES[0]
    assert match_port("49 daw", NAMES) == NAMES[2]


def test_ambiguous_and_missing_names_are_user_errors():
    with pytest.raises(NoSuchPortError, match="ambiguous.*KeyLab 49 MIDI.*KeyLab 49 DAW"):
        match_port("KeyLab 49:", NAMES)
    with pytest.raises(NoSuchPortError, match="plugged in.*Midi Through"):
        match_port("Oxygen", NAMES)


def test_unknown_api_name_is_rejected():
    with pytest.raises(MidiApiError, match="unknown MIDI API 'pipewire'"):
        resolve_api("pipewire")


@pytest.mark.skipif(os.path.exists("/dev/snd/seq"), reason="this machine has ALSA MIDI")
def test_auto_falls_back_to_jack_without_alsa(jack_server, monkeypatch):
    import rtmidi

    from composer_gui.midi import ports

    monkeypatch.delenv("COMPOSER_GUI_MIDI_API", raising=False)
    monkeypatch.setattr(ports, "_resolved", {})
    assert resolve_api() == rtmidi.API_UNIX_JACK
    with pytest.raises(MidiApiError, match="ALSA sequencer is missing"):
        resolve_api("alsa")


def test_listing_shows_virtual_ports_both_ways(jack_server, keyboard, unique):
    with MidiInput(virtual=True, client_name=unique, port_name="in"):
        ports = list_ports()
    assert ports.api == "jack"
    assert keyboard.port in ports.inputs
    assert f"{unique}:in" in ports.outputs


def test_hot_plug_seen_by_the_next_poll(jack_server, unique):
    from .conftest import VirtualKeyboard

    watcher = PortWatcher(exclude_client="nobody")
    try:
        kb = VirtualKeyboard(unique + "hp")
        changes = watcher.poll()
        assert kb.port in changes.added_inputs and kb.port in watcher.inputs
        kb.close()
        deadline = time.monotonic() + 2
        removed = ()
        while kb.port not in removed and time.monotonic() < deadline:
            removed += watcher.poll().removed_inputs
            time.sleep(0.05)
        assert kb.port in removed
        assert not watcher.poll()
    finally:
        watcher.close()


def test_output_reaches_an_input_by_substring(jack_server, unique):
    with MidiInput(virtual=True, client_name=unique, port_name="sink") as sink:
        with MidiOutput(f"{unique.upper()}:SINK") as out:
            time.sleep(0.1)
            out.send((0x90, 60, 100))
            out.all_notes_off()
            deadline = time.monotonic() + 2
            got = []
            while len(got) < 49 and time.monotonic() < deadline:
                got += sink.drain()
                time.sleep(0.01)
    assert got[0].data == (0x90, 60, 100)
    assert (0xB9, 123, 0) in [r.data for r in got]


def test_fifty_open_close_cycles_under_traffic(jack_server, unique):
    proc = subprocess.run(
        [sys.executable, "-m", "tests.live.port_cycles", unique, "50"],
        cwd=REPO, capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    ok, cycles, received = proc.stdout.split()
    assert (ok, cycles) == ("ok", "50")
    assert int(received) > 100  # the inputs really were under traffic
