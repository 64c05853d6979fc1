"""Opens and closes MIDI inputs while messages pour in (run as a subprocess by
test_ports.py, so that an abort or a deadlock fails one test instead of killing pytest).

Usage: python -m tests.live.port_cycles CLIENT CYCLES
Prints "ok CYCLES RECEIVED" on success.
"""

from __future__ import annotations

import sys
import threading
import time

import rtmidi

from composer_gui.midi.ports import MidiInput


def main() -> int:
    client, cycles = sys.argv[1], int(sys.argv[2])
    out = rtmidi.MidiOut(rtmidi.API_UNIX_JACK, name=client)
    out.open_virtual_port("flood")
    stop = threading.Event()

    def flood() -> None:
        pitch = 0
        while not stop.is_set():
            out.send_message([0x90, 36 + pitch % 48, 100])
            out.send_message([0x80, 36 + pitch % 48, 0])
            pitch += 1
            time.sleep(0.0005)

    sender = threading.Thread(target=flood, daemon=True)
    sender.start()
    received = 0
    try:
        for i in range(cycles):
            # Alternate connecting to the flood and offering a virtual port of our own.
            if i % 2 == 0:
                port = MidiInput(f"{client}:flood", client_name=f"{client}in")
            else:
                port = MidiInput(virtual=True, client_name=f"{client}v", port_name="v")
            deadline = time.perf_counter() + 0.02
            while time.perf_counter() < deadline:
                received += len(port.drain())
                time.sleep(0.002)
            port.close()
    finally:
        stop.set()
        sender.join()
        out.close_port()
    print(f"ok {cycles} {received}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
