"""Built-in synthesizer, audio device output, offline WAV rendering, song playback.

* :mod:`.synth` — TinySoundFont + the shipped General MIDI SoundFont (sustain pedal,
  drums on channel 10); :class:`~.synth.SoundUnavailable` says what is missing.
* :mod:`.engine` — one synthesizer fed by live messages and a playing timeline, rendered
  block by block with sample-accurate event times (used by the device and the render).
* :mod:`.device` — miniaudio output (PulseAudio/PipeWire, ALSA, JACK, Core Audio, WASAPI).
* :mod:`.mixer` / :mod:`.timeline` — per-track volume, pan, mute, solo and master; a song
  as time-sorted MIDI messages through its tempo map.
* :mod:`.playback` — the two players (built-in engine, MIDI port thread) behind one
  transport; :mod:`.render` — WAV export (44.1 kHz, 16-bit stereo).
"""
