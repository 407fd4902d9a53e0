"""The output sizes style transfer accepts (the longer side, in pixels). A module of its own,
with no imports, so the CLI can build its parser without loading numpy or the networks."""

MIN_SIZE = 64
MAX_SIZE = 4096
DEFAULT_SIZE = 1024
