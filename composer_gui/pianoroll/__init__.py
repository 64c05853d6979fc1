"""numpy bridge between songs and piano-roll arrays [tracks, steps, pitches]; no Qt, no torch."""
