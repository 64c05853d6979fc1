"""The only package that imports torch (lazily): config, models, data, training, sampling, metrics."""
