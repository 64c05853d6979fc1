"""Built-in synthesizer, audio device output, offline WAV rendering."""
