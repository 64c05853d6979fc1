"""The only package that imports mido / rtmidi: SMF read/write, ports, live input."""
