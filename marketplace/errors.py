"""Named refusals of the marketplace.

Each refusal has two wordings. The message (`str(exc)`) is precise, for the CLI, scripts and
logs: it names the argument and quotes the value (`` `price` must be greater than zero, got
'-5' ``). `plain`, where given, is the same refusal as a sentence for people at a web page
("Enter a price above 0.00."); the web pages fall back to a cleaned-up message without it.
"""


class MarketplaceError(Exception):
    """Base class for every refusal; nothing was changed when one is raised.

    Args:
        message: the precise refusal (CLI, scripts, logs).
        plain: the refusal in a web page's words, or None to derive it from the message.
    """

    def __init__(self, message: str = "", *args: object, plain: str | None = None) -> None:
        super().__init__(message, *args)
        self.plain = plain


class InvalidInput(MarketplaceError, ValueError):
    """An argument is malformed or out of range."""


def check_int(name: str, value: object, low: int, high: int) -> int:
    """`value` if it is an integer (not a bool) in [low, high], else InvalidInput naming it."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidInput(f"`{name}` must be an integer in [{low}, {high}], got {value!r}")
    return value


class NotFound(MarketplaceError, LookupError):
    """An id or name that does not exist."""


class UsernameTaken(MarketplaceError):
    """Another account already has this username (compared case-insensitively)."""


class InvalidCredentials(MarketplaceError):
    """Wrong username or password."""


class NotOwner(MarketplaceError, PermissionError):
    """The acting user does not own the artwork or listing."""


class CopyrightConflict(MarketplaceError):
    """The image is an exact or near copy of an artwork owned by someone else."""

    def __init__(self, message: str, artwork_id: int, distance: int) -> None:
        super().__init__(message)
        self.artwork_id = artwork_id
        self.distance = distance


class AlreadyRegistered(MarketplaceError):
    """The same image is already registered (by the same owner)."""

    def __init__(self, message: str, artwork_id: int) -> None:
        super().__init__(message)
        self.artwork_id = artwork_id


class ListingConflict(MarketplaceError):
    """The artwork already has an open listing of this licence tier."""


class ListingNotForSale(MarketplaceError):
    """The listing is sold, sold out, delisted or cancelled."""


class SelfPurchase(MarketplaceError):
    """A seller tried to buy their own listing."""


class InsufficientFunds(MarketplaceError):
    """The buyer's balance does not cover the price."""


class StaleVersion(MarketplaceError):
    """The listing changed since the caller read it (price or status)."""


class IdempotencyConflict(MarketplaceError):
    """An idempotency key was reused for a different request."""
