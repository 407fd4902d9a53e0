"""Named failures of the provenance layer."""


class ProvenanceError(Exception):
    """Base class for provenance failures."""


class InvalidImage(ProvenanceError, ValueError):
    """The bytes are not an image Atelier accepts (not an image, truncated, too large)."""
