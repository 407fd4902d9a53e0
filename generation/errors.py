"""Named failures of the generation layer; the CLI and the app show their message as is."""


class GenerationError(ValueError):
    """A generation request that cannot be carried out (bad input, unknown model, ...)."""


class ModelUnavailable(GenerationError):
    """A model that is not installed or cannot be loaded here; the message says how to get it."""


class GenerationCancelled(GenerationError):
    """The caller's `should_cancel` asked the work to stop; nothing was made."""
