"""The workflow's own machinery: config, grid, paths, targets, rule inputs, fingerprints, planning."""
