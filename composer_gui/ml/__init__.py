"""The only package that imports torch (lazily), in rooms by job.

From the top down (a room imports only the rooms below it; see docs/DESIGN.md, "The map
of ml/"): ``evaluate`` (the evaluate command), ``train`` (the training loop and its
options), ``generate`` (sampling, decoding, the engine process), ``drums`` (the pop drum
part), ``data`` (songs -> arrays, dataset readers), ``model`` (config, networks,
checkpoints, registry) and ``metrics`` (measures of music). ``device`` and ``errors`` are
shared by all of them.
"""
