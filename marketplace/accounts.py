"""Accounts: sign-up, sign-in and credits.

Passwords are hashed with argon2id (argon2-cffi's defaults: RFC 9106's low-memory profile).
Usernames are 3-32 ASCII characters of letters, digits, `_`, `.` and `-`, start with a letter
or digit, and are unique case-insensitively (compared by their casefolded form) and by their
confusable skeleton (`rnary` cannot pose as `mary`; ASCII only, so no Cyrillic `а` as `a`).
"""

from __future__ import annotations

import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from db.models import User, is_row_id
from marketplace.errors import InvalidCredentials, InvalidInput, NotFound, UsernameTaken
from marketplace.ledger import Leg, post_transaction
from marketplace.rules import DEFAULT_RULES, MarketRules

# ASCII only, matched whole (`re.fullmatch`: a `$` would also match before a final newline)
USERNAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{2,31}")
# an echoed name is cut to this many characters, so an error never repeats a huge input
ECHO_LIMIT = 40
RESERVED_USERNAMES = frozenset({"admin", "administrator", "atelier", "platform", "system", "root"})
MAX_USERNAME_LENGTH = 32
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 256
MAX_GRANT_CENTS = 100_000_000_00

DEFAULT_HASHER = PasswordHasher()


def username_key(username: str) -> str:
    return username.casefold()


# ASCII characters and pairs that read as another in common fonts (from Unicode's UTS #39
# confusables data, restricted to what a username may contain): `rn` looks like `m`, `0`
# like `o`, `1`, `I` and `l` like each other, `vv` like `w`, `cl` like `d`.
_CONFUSABLE_PAIRS = (("rn", "m"), ("vv", "w"), ("cl", "d"))
_CONFUSABLE_CHARS = str.maketrans({"0": "o", "1": "l", "i": "l", "_": "-", ".": "-"})


def username_skeleton(username: str) -> str:
    """The confusable skeleton of a (valid, ASCII) username: two names with the same skeleton
    look alike on screen, so only the first of them may be registered. Usernames are ASCII
    only, so a Cyrillic `а` can never pose as a Latin `a`; this catches look-alikes within
    ASCII (`rnary` for `mary`, `ada1` for `adal`)."""
    skeleton = username.casefold()
    for pair, single in _CONFUSABLE_PAIRS:
        skeleton = skeleton.replace(pair, single)
    return skeleton.translate(_CONFUSABLE_CHARS)


def shown(text: str) -> str:
    """User input as an error message may quote it: repr'd and cut to ECHO_LIMIT characters."""
    return repr(text if len(text) <= ECHO_LIMIT else text[:ECHO_LIMIT] + "…")


def validate_username(username: object) -> str:
    """Return the username if it is acceptable, else raise InvalidInput naming the rule."""
    if not isinstance(username, str):
        raise InvalidInput(f"`username` must be text, got {type(username).__name__}")
    if not USERNAME_PATTERN.fullmatch(username):
        raise InvalidInput(
            "`username` must be 3-32 characters of ASCII letters (a-z, A-Z), digits, '_', '.' "
            f"or '-', starting with a letter or digit; got {shown(username)}",
            plain="Choose a username of 3 to 32 letters (a to z), digits, dots, dashes or "
            "underscores, starting with a letter or digit.",
        )
    skeleton = username_skeleton(username)
    if any(username_skeleton(reserved) == skeleton for reserved in RESERVED_USERNAMES):
        raise InvalidInput(
            f"`username` {shown(username)} is reserved",
            plain=f"The username {shown(username)} is reserved. Choose another.",
        )
    return username


def validate_password(password: object) -> str:
    if not isinstance(password, str):
        raise InvalidInput("`password` must be text")
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise InvalidInput(
            f"`password` must be {MIN_PASSWORD_LENGTH}-{MAX_PASSWORD_LENGTH} characters, "
            f"got {len(password)}",
            plain=f"Choose a password of {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} "
            "characters.",
        )
    if not password.strip():
        raise InvalidInput(
            "`password` must not be only spaces",
            plain="Choose a password with more than spaces in it.",
        )
    return password


def sign_up(
    session: Session,
    username: str,
    password: str,
    *,
    rules: MarketRules = DEFAULT_RULES,
    hasher: PasswordHasher = DEFAULT_HASHER,
) -> User:
    """Create an account with the starting balance of demo credits.

    Raises:
        InvalidInput: a malformed username or password.
        UsernameTaken: the name exists, in any letter case.
    """
    validate_username(username)
    validate_password(password)
    # hash before the first query: on SQLite that query takes the write lock
    password_hash = hasher.hash(password)
    key = username_key(username)
    skeleton = username_skeleton(username)
    taken = UsernameTaken(f"the username {shown(username)} is taken")
    if session.scalar(select(User.id).where(User.username_key == key)) is not None:
        raise taken
    look_alike = session.scalar(select(User.username).where(User.username_skeleton == skeleton))
    if look_alike is not None:
        raise UsernameTaken(
            f"the username {shown(username)} looks too much like {look_alike!r}, "
            "which is taken; choose another"
        )
    user = User(
        username=username,
        username_key=key,
        username_skeleton=skeleton,
        password_hash=password_hash,
    )
    try:
        with session.begin_nested():
            session.add(user)
    except IntegrityError:
        raise taken from None
    if rules.starting_balance_cents:
        post_transaction(
            session,
            "grant",
            [
                Leg("grant", rules.starting_balance_cents, user_id=user.id),
                Leg("issuance", -rules.starting_balance_cents, system_account="issuance"),
            ],
            memo="starting balance",
        )
        session.refresh(user)
    return user


def authenticate(
    session: Session, username: str, password: str, *, hasher: PasswordHasher = DEFAULT_HASHER
) -> User:
    """Return the user whose name and password these are.

    An unknown name costs the same hashing work as a wrong password, so timing does not tell
    which names exist.

    Raises:
        InvalidCredentials: wrong username or password (the message does not say which).
    """
    if not isinstance(username, str) or not isinstance(password, str):
        raise InvalidCredentials("wrong username or password")
    if len(password) > MAX_PASSWORD_LENGTH or len(username) > MAX_USERNAME_LENGTH:
        # no valid account has such a password: refuse before argon2 spends time on it
        raise InvalidCredentials("wrong username or password")
    user = session.scalar(select(User).where(User.username_key == username_key(username)))
    stored = user.password_hash if user is not None else _dummy_hash(hasher)
    try:
        hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        raise InvalidCredentials("wrong username or password") from None
    if user is None:
        raise InvalidCredentials("wrong username or password")
    return user


_DUMMY_HASHES: dict[tuple, str] = {}


def _dummy_hash(hasher: PasswordHasher) -> str:
    params = (hasher.time_cost, hasher.memory_cost, hasher.parallelism)
    if params not in _DUMMY_HASHES:
        _DUMMY_HASHES[params] = hasher.hash("not a real password")
    return _DUMMY_HASHES[params]


def get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id) if is_row_id(user_id) else None
    if user is None:
        raise NotFound(f"user #{user_id} does not exist")
    return user


def find_user(session: Session, username: str) -> User:
    """The user with this name, compared case-insensitively."""
    if not isinstance(username, str):
        raise NotFound(f"no user named {username!r}")
    user = session.scalar(select(User).where(User.username_key == username_key(username)))
    if user is None:
        raise NotFound(f"no user named {shown(username)}")
    return user


def grant_credits(session: Session, user_id: int, cents: int, *, memo: str = "grant") -> User:
    """Give a user demo credits from the issuance account (an operator action).

    Raises:
        InvalidInput: a non-positive or absurd amount.
        NotFound: no such user.
    """
    if isinstance(cents, bool) or not isinstance(cents, int) or not 0 < cents <= MAX_GRANT_CENTS:
        raise InvalidInput(f"`cents` must be an integer in [1, {MAX_GRANT_CENTS}], got {cents!r}")
    user = get_user(session, user_id)
    post_transaction(
        session,
        "grant",
        [
            Leg("grant", cents, user_id=user.id),
            Leg("issuance", -cents, system_account="issuance"),
        ],
        memo=memo,
    )
    session.refresh(user)
    return user
