"""Build small Standard MIDI Files byte by byte for tests (no binaries in git)."""

from __future__ import annotations


def vlq(value: int) -> bytes:
    out = [value & 0x7F]
    value >>= 7
    while value:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    return bytes(reversed(out))


def track(*events: tuple[int, bytes], end: bool = True) -> bytes:
    """An MTrk chunk from (delta ticks, event bytes) pairs, ended by end-of-track."""
    body = b"".join(vlq(delta) + data for delta, data in events)
    if end:
        body += b"\x00\xff\x2f\x00"
    return b"MTrk" + len(body).to_bytes(4, "big") + body


def smf(*tracks: bytes, fmt: int = 1, tpb: int = 480, ntrks: int | None = None) -> bytes:
    """A whole file: MThd header and the given MTrk chunks."""
    n = len(tracks) if ntrks is None else ntrks
    header = b"MThd" + (6).to_bytes(4, "big") + bytes((0, fmt)) + n.to_bytes(2, "big")
    return header + tpb.to_bytes(2, "big") + b"".join(tracks)


def meta(mtype: int, data: bytes) -> bytes:
    return b"\xff" + bytes((mtype,)) + vlq(len(data)) + data


def on(ch: int, pitch: int, vel: int = 100) -> bytes:
    return bytes((0x90 | ch, pitch, vel))


def off(ch: int, pitch: int) -> bytes:
    return bytes((0x80 | ch, pitch, 0x40))


def tempo(bpm: float) -> bytes:
    return meta(0x51, round(60_000_000 / bpm).to_bytes(3, "big"))


def meter(num: int, den: int) -> bytes:
    return meta(0x58, bytes((num, den.bit_length() - 1, 24, 8)))


def key(sf: int, minor: bool = False) -> bytes:
    return meta(0x59, bytes((sf & 0xFF, int(minor))))


def name(text: bytes) -> bytes:
    return meta(0x03, text)
