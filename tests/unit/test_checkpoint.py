import base64

import pytest

from provenance.checkpoint import (
    Checkpoint,
    NoteError,
    NoteSigner,
    NoteVerifier,
    open_note,
    sign_checkpoint,
    verify_checkpoint,
)
from provenance.merkle import root_hash

# the example of c2sp.org/signed-note, "Verifier keys": a vector made outside this project
SPEC_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
SPEC_NOTE = (
    "This is an example message.\n"
    "\n"
    "\u2014 example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZ"
    "XsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n"
)
ORIGIN = "atelier.example/log"


def test_the_signed_note_specs_example_verifies():
    verifier = NoteVerifier.from_vkey(SPEC_VKEY)
    assert open_note(SPEC_NOTE, [verifier]) == "This is an example message.\n"


def test_a_changed_byte_in_the_specs_example_is_rejected():
    verifier = NoteVerifier.from_vkey(SPEC_VKEY)
    with pytest.raises(NoteError, match="does not verify"):
        open_note(SPEC_NOTE.replace("example message", "example massage"), [verifier])


def test_our_verifier_key_round_trips_in_the_published_format():
    signer = NoteSigner.generate(ORIGIN)
    vkey = signer.verifier.vkey
    name, hex_id, material = vkey.split("+", 2)
    assert name == ORIGIN and len(hex_id) == 8
    assert base64.b64decode(material)[0] == 0x01
    assert NoteVerifier.from_vkey(vkey) == signer.verifier


def test_a_checkpoint_signs_and_verifies_with_its_three_lines():
    signer = NoteSigner.generate(ORIGIN)
    root = root_hash([b"a", b"b", b"c"])
    note = sign_checkpoint(Checkpoint(ORIGIN, 3, root), signer)
    text, _, signature = note.partition("\n\n")
    assert text.split("\n") == [ORIGIN, "3", base64.b64encode(root).decode()]
    assert signature.startswith(f"\u2014 {ORIGIN} ")
    checkpoint = verify_checkpoint(note, signer.verifier, ORIGIN)
    assert (checkpoint.size, checkpoint.root_hash) == (3, root)


def test_a_checkpoint_with_any_changed_byte_is_rejected():
    signer = NoteSigner.generate(ORIGIN)
    note = sign_checkpoint(Checkpoint(ORIGIN, 41, b"\x07" * 32), signer)
    text_end = note.index("\n\n")
    for i in range(text_end):
        if note[i] == "\n":
            continue
        changed = note[:i] + ("x" if note[i] != "x" else "y") + note[i + 1 :]
        with pytest.raises(NoteError):
            verify_checkpoint(changed, signer.verifier, ORIGIN)


def test_a_checkpoint_from_an_unknown_key_is_rejected():
    note = sign_checkpoint(Checkpoint(ORIGIN, 1, b"\x01" * 32), NoteSigner.generate(ORIGIN))
    stranger = NoteSigner.generate(ORIGIN).verifier
    with pytest.raises(NoteError, match="not signed by any trusted key"):
        verify_checkpoint(note, stranger, ORIGIN)


def test_a_checkpoint_of_another_log_is_rejected():
    signer = NoteSigner.generate("other.example/log")
    note = sign_checkpoint(Checkpoint("other.example/log", 1, b"\x01" * 32), signer)
    with pytest.raises(NoteError, match="expected 'atelier.example/log'"):
        verify_checkpoint(note, signer.verifier, ORIGIN)


def test_signatures_of_unknown_keys_are_ignored_beside_a_trusted_one():
    ours, witness = NoteSigner.generate(ORIGIN), NoteSigner.generate("witness.example")
    note = sign_checkpoint(Checkpoint(ORIGIN, 2, b"\x02" * 32), ours)
    cosigned = note + witness.sign(Checkpoint(ORIGIN, 2, b"\x02" * 32).text()).split("\n\n")[1]
    assert verify_checkpoint(cosigned, ours.verifier, ORIGIN).size == 2


@pytest.mark.parametrize(
    "text",
    ["origin\n5\n", "origin\n05\nAAAA\n", "origin\n5\nnot base64!\n", "o\n1\nAAAA\n"],
)
def test_malformed_checkpoints_are_refused(text):
    with pytest.raises(NoteError):
        Checkpoint.parse(text)


def test_the_signing_key_survives_a_pem_round_trip():
    signer = NoteSigner.generate(ORIGIN)
    again = NoteSigner.from_pem(ORIGIN, signer.private_pem())
    assert again.verifier == signer.verifier


def test_a_verifier_key_whose_base64_contains_plus_signs_parses():
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    # search deterministic seeds for a public key whose encoding has a "+"
    for seed in range(1000):
        signer = NoteSigner(ORIGIN, Ed25519PrivateKey.from_private_bytes(bytes([seed]) * 32))
        if "+" in signer.verifier.vkey.split("+", 2)[2]:
            break
    assert "+" in signer.verifier.vkey.split("+", 2)[2]
    assert NoteVerifier.from_vkey(signer.verifier.vkey) == signer.verifier
