"""``composer-gui ports | record | play``: live MIDI and sound from the command line.

Registration stays cheap: rtmidi, numpy and the synthesizer are imported inside the
command functions.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from composer_gui.core.errors import UserError

API_CHOICES = ("auto", "alsa", "jack", "coremidi", "winmm")


def _add_api(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--api",
        choices=API_CHOICES,
        default=None,
        help="MIDI system (default auto: ALSA on Linux, JACK when ALSA is missing; "
        "or $COMPOSER_GUI_MIDI_API)",
    )


def _meter(text: str) -> tuple[int, int]:
    try:
        num, den = (int(x) for x in text.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"meter {text!r} is not like 4/4") from None
    if num < 1 or num > 64 or den < 1 or den > 64 or den & (den - 1):
        raise argparse.ArgumentTypeError(
            f"meter {text!r}: need 1-64 beats of a power-of-two note value"
        )
    return num, den


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be at least 1")
    return value


def _tempo(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"tempo {text!r} is not a number") from None
    if not 10 <= value <= 400:
        raise argparse.ArgumentTypeError(f"tempo {value:g} bpm outside 10-400")
    return value


def register(subparsers) -> None:
    """Add the ``ports``, ``record`` and ``play`` subcommands."""
    p = subparsers.add_parser("ports", help="list MIDI input and output ports")
    _add_api(p)
    p.set_defaults(func=cmd_ports)

    p = subparsers.add_parser(
        "record",
        help="record a take from a MIDI input into a MIDI file",
        description="Counts in, prints 'recording' on stderr at the first beat of bar 1, "
        "records --bars bars and writes them (with tempo and meter) to the output file.",
    )
    p.add_argument("--port", required=True, help="input port: exact name or a part of it")
    p.add_argument("--bars", type=_positive_int, required=True, help="bars to record")
    p.add_argument("--tempo", type=_tempo, default=120.0, help="beats per minute (120)")
    p.add_argument("--meter", type=_meter, default=(4, 4), help="time signature (4/4)")
    p.add_argument("--count-in", type=int, choices=(0, 1, 2), default=1, help="bars counted in (1)")
    p.add_argument(
        "--quantize",
        type=int,
        default=0,
        metavar="N",
        help="snap onsets to 1/N notes (default 0: off)",
    )
    p.add_argument(
        "--click-port",
        metavar="NAME",
        help="play a metronome click to this MIDI output (channel 10)",
    )
    _add_api(p)
    p.add_argument("-o", "--output", required=True, help="MIDI file to write")
    p.set_defaults(func=cmd_record)

    p = subparsers.add_parser(
        "play",
        help="play a MIDI file (built-in sound, a MIDI port, or a WAV file)",
    )
    p.add_argument("file", help="MIDI file")
    target = p.add_mutually_exclusive_group()
    target.add_argument("--port", help="MIDI output port: exact name or a part of it")
    target.add_argument("--wav", help="render to this WAV file (44.1 kHz, 16-bit stereo)")
    p.add_argument("--soundfont", help="SoundFont (.sf2/.sf3) for the built-in sound")
    _add_api(p)
    p.set_defaults(func=cmd_play)


def cmd_ports(args) -> int:
    from composer_gui.midi.ports import list_ports

    ports = list_ports(args.api)
    print(f"MIDI system: {ports.api}")
    print("inputs:")
    for name in ports.inputs or ("(none)",):
        print(f"  {name}")
    print("outputs:")
    for name in ports.outputs or ("(none)",):
        print(f"  {name}")
    return 0


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def cmd_record(args) -> int:
    from composer_gui.core.quantize import grid_ticks
    from composer_gui.core.song import Song, TempoChange, TimeSignature, Track
    from composer_gui.midi.live import LiveTake, record_take
    from composer_gui.midi.ports import MidiInput, MidiOutput, PortWatcher, resolve_api
    from composer_gui.midi.smf import write_midi

    out_path = Path(args.output)
    if not out_path.parent.is_dir():
        raise UserError(f"{out_path}: folder {out_path.parent} does not exist")
    api = resolve_api(args.api)
    song = Song(
        tempos=[TempoChange(0, round(60_000_000 / args.tempo))],
        time_signatures=[TimeSignature(0, *args.meter)],
    )
    quantize = grid_ticks(song.ticks_per_beat, args.quantize) if args.quantize else None
    click = MidiOutput(args.click_port, api=api, port_name="click") if args.click_port else None
    watcher = PortWatcher(api)
    try:
        with MidiInput(args.port, api=api, port_name="record") as midi_in:
            _say(
                f"recording from {midi_in.name!r}: {args.bars} bars at {args.tempo:g} bpm, "
                f"{args.meter[0]}/{args.meter[1]}, count-in {args.count_in}"
            )
            # JACK connects asynchronously: give the connection a moment before counting.
            take = LiveTake(
                midi_in,
                song,
                bars=args.bars,
                count_in_bars=args.count_in,
                begin=_now() + 0.15,
                quantize=quantize,
                watcher=watcher,
            )

            def on_beat(beat) -> None:
                if click is not None:
                    note = 76 if beat.accented else 77  # GM hi / lo wood block
                    click.send((0x99, note, 110 if beat.accented else 80))
                    click.send((0x89, note, 0))
                if beat.count_in:
                    _say(f"count-in {beat.beat + 1}")

            result = record_take(take, on_recording=lambda: _say("recording"), on_beat=on_beat)
    finally:
        watcher.close()
        if click is not None:
            click.close()
    song.tracks.append(
        Track(name="Take", program=0, channel=0, role="melody", notes=list(result.notes))
    )
    write_midi(song, out_path)
    _say(f"{result.message}; wrote {out_path}")
    return 0


def _now() -> float:
    import time

    return time.perf_counter()


def cmd_play(args) -> int:
    from composer_gui.midi.smf import read_midi

    song = read_midi(args.file)
    if args.wav:
        from composer_gui.audio.render import render_wav

        info = render_wav(song, args.wav, soundfont=args.soundfont)
        _say(f"wrote {args.wav}: {info.seconds:.2f} s, rendered in {info.render_seconds:.2f} s")
        return 0
    if args.port:
        from composer_gui.audio.playback import play_to_port

        play_to_port(song, args.port, api=args.api, on_started=lambda: _say("playing"))
        return 0
    from composer_gui.audio.playback import play_built_in

    play_built_in(song, soundfont=args.soundfont, on_started=lambda: _say("playing"))
    return 0
