import pytest
from sqlalchemy import func, select

from db.models import User
from marketplace.accounts import authenticate, find_user, grant_credits, sign_up
from marketplace.errors import InvalidCredentials, InvalidInput, NotFound, UsernameTaken
from marketplace.ledger import check_ledger
from tests.factories import FAST_HASHER, PASSWORD
from tests.integration.helpers import RULES, new_user


def test_a_new_account_gets_the_starting_balance_and_a_balanced_ledger(sessions):
    uid = new_user(sessions, "Ada")
    with sessions() as s:
        assert s.get(User, uid).balance_cents == RULES.starting_balance_cents
        assert check_ledger(s).ok


def test_passwords_are_stored_as_argon2id_hashes(sessions):
    uid = new_user(sessions, "ada")
    with sessions() as s:
        stored = s.get(User, uid).password_hash
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored


def test_usernames_are_unique_regardless_of_letter_case(sessions):
    new_user(sessions, "Ada")
    with pytest.raises(UsernameTaken, match="'ADA' is taken"), sessions() as s, s.begin():
        sign_up(s, "ADA", PASSWORD, hasher=FAST_HASHER)
    with sessions() as s:
        assert s.scalar(select(func.count(User.id))) == 1


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("ab", "3-32 characters"),
        ("a" * 33, "3-32 characters"),
        ("has space", "3-32 characters"),
        ("_leading", "starting with a letter"),
        ("<script>", "3-32 characters"),
        ("Admin", "reserved"),
        (None, "must be text"),
    ],
)
def test_malformed_usernames_are_refused_and_nothing_is_written(sessions, name, message):
    with pytest.raises(InvalidInput, match=message), sessions() as s, s.begin():
        sign_up(s, name, PASSWORD, hasher=FAST_HASHER)
    with sessions() as s:
        assert s.scalar(select(func.count(User.id))) == 0


def test_short_passwords_are_refused(sessions):
    with pytest.raises(InvalidInput, match="8-256 characters"), sessions() as s, s.begin():
        sign_up(s, "ada", "short", hasher=FAST_HASHER)


def test_login_accepts_the_right_password_in_any_name_case(sessions):
    uid = new_user(sessions, "Ada")
    with sessions() as s, s.begin():
        assert authenticate(s, "aDA", PASSWORD, hasher=FAST_HASHER).id == uid


@pytest.mark.parametrize(("name", "password"), [("ada", "wrong password"), ("nobody", PASSWORD)])
def test_login_refuses_wrong_credentials_without_saying_which_part(sessions, name, password):
    new_user(sessions, "ada")
    with pytest.raises(InvalidCredentials, match="^wrong username or password$"):
        with sessions() as s, s.begin():
            authenticate(s, name, password, hasher=FAST_HASHER)


def test_an_operator_grant_moves_credits_from_issuance(sessions):
    uid = new_user(sessions, "ada")
    with sessions() as s, s.begin():
        grant_credits(s, uid, 5_000)
    with sessions() as s:
        assert s.get(User, uid).balance_cents == RULES.starting_balance_cents + 5_000
        report = check_ledger(s)
        assert report.ok
        assert report.issued_cents == RULES.starting_balance_cents + 5_000


@pytest.mark.parametrize("cents", [0, -1, 1.5, True])
def test_grants_must_be_positive_whole_cents(sessions, cents):
    uid = new_user(sessions, "ada")
    with pytest.raises(InvalidInput, match="cents"), sessions() as s, s.begin():
        grant_credits(s, uid, cents)


def test_unknown_users_are_reported_by_name(sessions):
    with pytest.raises(NotFound, match="no user named 'ghost'"), sessions() as s:
        find_user(s, "ghost")


@pytest.mark.parametrize("name", ["ada\n", "admin\n", "root\n", "ada\r\n", "\nada", "ada\x00"])
def test_a_name_with_a_trailing_newline_or_control_character_is_refused(sessions, name):
    with pytest.raises(InvalidInput, match="3-32 characters"), sessions() as s, s.begin():
        sign_up(s, name, PASSWORD, hasher=FAST_HASHER)
    with sessions() as s:
        assert s.scalar(select(func.count(User.id))) == 0


@pytest.mark.parametrize("name", ["аda", "ɑda", "ada\u200b"])
def test_non_ascii_look_alikes_of_a_name_are_refused(sessions, name):
    # Cyrillic а, Latin alpha, a zero-width space: usernames are ASCII only
    new_user(sessions, "ada")
    with pytest.raises(InvalidInput, match="ASCII letters"), sessions() as s, s.begin():
        sign_up(s, name, PASSWORD, hasher=FAST_HASHER)


@pytest.mark.parametrize(
    ("existing", "look_alike"),
    [("mary", "rnary"), ("adal", "ada1"), ("bob0", "BOBO"), ("will", "wi11"), ("dave", "clave")],
)
def test_a_name_whose_confusable_skeleton_is_taken_is_refused(sessions, existing, look_alike):
    new_user(sessions, existing)
    with pytest.raises(UsernameTaken, match=f"looks too much like '{existing}'"):
        with sessions() as s, s.begin():
            sign_up(s, look_alike, PASSWORD, hasher=FAST_HASHER)
    with sessions() as s:
        assert s.scalar(select(func.count(User.id))) == 1


@pytest.mark.parametrize("name", ["adm1n", "r00t", "Admin", "p1atform"])
def test_look_alikes_of_reserved_names_are_reserved(sessions, name):
    with pytest.raises(InvalidInput, match="reserved"), sessions() as s, s.begin():
        sign_up(s, name, PASSWORD, hasher=FAST_HASHER)


def test_an_error_quotes_at_most_forty_characters_of_a_huge_username(sessions):
    with pytest.raises(InvalidInput) as refused, sessions() as s, s.begin():
        sign_up(s, "x" * 100_000, PASSWORD, hasher=FAST_HASHER)
    assert len(str(refused.value)) < 300 and "x" * 40 + "…" in str(refused.value)
    with pytest.raises(NotFound) as missing, sessions() as s:
        find_user(s, "y" * 100_000)
    assert len(str(missing.value)) < 100


def test_a_password_longer_than_any_account_can_have_is_refused_without_hashing(sessions):
    new_user(sessions, "ada")
    calls = []

    class CountingHasher(type(FAST_HASHER)):
        def verify(self, hash, password):
            calls.append(len(password))
            return super().verify(hash, password)

    with pytest.raises(InvalidCredentials), sessions() as s:
        authenticate(s, "ada", "p" * 4_000_000, hasher=CountingHasher(**HASHER_PARAMS))
    assert calls == []


HASHER_PARAMS = {"time_cost": 1, "memory_cost": 1024, "parallelism": 1}
