"""Signed tree heads as C2SP checkpoints (c2sp.org/tlog-checkpoint) in signed notes
(c2sp.org/signed-note), signed with Ed25519.

A checkpoint's note text is three lines: the log's origin, the tree size in decimal, and the
base64 RFC 9162 root hash. A note is its text, a blank line, and signature lines
`— <key name> base64(key id || signature)`. The key id is the first 4 bytes of
SHA-256(key name || 0x0A || 0x01 || public key); the verifier key is published as
`<name>+<hex key id>+base64(0x01 || public key)`, the form other tlog tools read.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from provenance.errors import ProvenanceError

ED25519 = 0x01
EM_DASH = "\u2014"
MAX_SIGNATURES = 16


class NoteError(ProvenanceError):
    """A note or checkpoint that is malformed, unsigned by a trusted key, or forged."""


def _check_name(name: str) -> str:
    if not isinstance(name, str) or not name or any(c.isspace() or c == "+" for c in name):
        raise ValueError(f"a key name must be non-empty, without spaces or '+', got {name!r}")
    return name


def key_id(name: str, public_key: bytes) -> bytes:
    """The 4-byte key id of an Ed25519 note key."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([ED25519]) + public_key).digest()[:4]


@dataclass(frozen=True)
class NoteVerifier:
    """A public key that checks note signatures of one key name."""

    name: str
    key_id: bytes
    public_key: bytes

    @property
    def vkey(self) -> str:
        material = base64.b64encode(bytes([ED25519]) + self.public_key).decode()
        return f"{self.name}+{self.key_id.hex()}+{material}"

    @classmethod
    def from_vkey(cls, vkey: str) -> NoteVerifier:
        """Parse `<name>+<hex id>+<base64(0x01 || key)>`.

        Raises:
            NoteError: malformed, not Ed25519, or an id that does not match the key.
        """
        try:
            # base64 may itself contain "+": only the first two separate fields
            name, hex_id, material = vkey.strip().split("+", 2)
            raw = base64.b64decode(material, validate=True)
            kid = bytes.fromhex(hex_id)
        except (ValueError, binascii.Error):
            raise NoteError(f"not a verifier key: {vkey!r}") from None
        if len(kid) != 4 or len(raw) != 33 or raw[0] != ED25519:
            raise NoteError("only Ed25519 verifier keys (type 0x01, 32 bytes) are supported")
        _check_name(name)
        public = raw[1:]
        if key_id(name, public) != kid:
            raise NoteError(f"verifier key id {hex_id} does not match its name and key")
        return cls(name=name, key_id=kid, public_key=public)

    def verify(self, text: bytes, signature: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, text)
        except InvalidSignature:
            return False
        return True


class NoteSigner:
    """An Ed25519 private key that signs notes under `name`."""

    def __init__(self, name: str, private_key: Ed25519PrivateKey) -> None:
        self.name = _check_name(name)
        self._key = private_key
        public = private_key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        self.verifier = NoteVerifier(name=name, key_id=key_id(name, public), public_key=public)

    @classmethod
    def generate(cls, name: str) -> NoteSigner:
        return cls(name, Ed25519PrivateKey.generate())

    @classmethod
    def from_pem(cls, name: str, pem: bytes) -> NoteSigner:
        key = serialization.load_pem_private_key(pem, password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError("the log signing key must be an Ed25519 private key")
        return cls(name, key)

    def private_pem(self) -> bytes:
        return self._key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    def sign(self, text: str) -> str:
        """Sign a note text (which must end in a newline); returns the whole note."""
        _check_text(text)
        signature = self._key.sign(text.encode())
        encoded = base64.b64encode(self.verifier.key_id + signature).decode()
        return f"{text}\n{EM_DASH} {self.name} {encoded}\n"


def _check_text(text: str) -> None:
    if not isinstance(text, str) or not text.endswith("\n"):
        raise NoteError("a note text must end with a newline")
    if any(ord(c) < 0x20 and c != "\n" for c in text):
        raise NoteError("a note must not contain control characters other than newline")


def open_note(note: str, verifiers: list[NoteVerifier]) -> str:
    """Verify a signed note and return its text.

    Signatures from unknown keys are ignored; a known key whose signature fails rejects the
    note; at least one known key must have signed it.

    Raises:
        NoteError: malformed, forged, or signed by no trusted key.
    """
    if not isinstance(note, str) or not note.endswith("\n"):
        raise NoteError("a signed note must end with a newline")
    _check_text(note)
    split = note.rfind("\n\n")
    if split < 0:
        raise NoteError("a signed note needs a blank line before its signatures")
    text, block = note[: split + 1], note[split + 2 :]
    lines = block[:-1].split("\n")
    if not lines or lines == [""] or len(lines) > MAX_SIGNATURES:
        raise NoteError("a signed note needs 1 to 16 signature lines")
    known = {(v.name, v.key_id): v for v in verifiers}
    verified = 0
    for line in lines:
        prefix = f"{EM_DASH} "
        if not line.startswith(prefix):
            raise NoteError(f"malformed signature line: {line!r}")
        try:
            name, encoded = line[len(prefix) :].split(" ")
            raw = base64.b64decode(encoded, validate=True)
        except (ValueError, binascii.Error):
            raise NoteError(f"malformed signature line: {line!r}") from None
        if len(raw) < 5:
            raise NoteError(f"malformed signature line: {line!r}")
        verifier = known.get((name, raw[:4]))
        if verifier is None:
            continue
        if not verifier.verify(text.encode(), raw[4:]):
            raise NoteError(f"the signature by {name} does not verify: the note was changed")
        verified += 1
    if not verified:
        raise NoteError("the note is not signed by any trusted key")
    return text


@dataclass(frozen=True)
class Checkpoint:
    """A log's signed statement of its size and root hash."""

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def text(self) -> str:
        if not self.origin or any(c.isspace() for c in self.origin):
            raise ValueError(f"`origin` must be non-empty without spaces, got {self.origin!r}")
        root = base64.b64encode(self.root_hash).decode()
        extra = "".join(f"{line}\n" for line in self.extensions)
        return f"{self.origin}\n{self.size}\n{root}\n{extra}"

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        lines = text.split("\n")
        if len(lines) < 4 or lines[-1] != "" or any(not line for line in lines[:-1]):
            raise NoteError("a checkpoint has at least three non-empty lines")
        origin, size_text, root_text, *extensions = lines[:-1]
        if not size_text.isdigit() or (size_text != "0" and size_text.startswith("0")):
            raise NoteError(f"checkpoint tree size must be decimal, got {size_text!r}")
        try:
            root = base64.b64decode(root_text, validate=True)
        except binascii.Error:
            raise NoteError("checkpoint root hash is not base64") from None
        if len(root) != 32:
            raise NoteError("checkpoint root hash must be 32 bytes")
        return cls(origin, int(size_text), root, tuple(extensions))


def sign_checkpoint(checkpoint: Checkpoint, signer: NoteSigner) -> str:
    """The checkpoint as a signed note."""
    return signer.sign(checkpoint.text())


def verify_checkpoint(note: str, verifier: NoteVerifier, origin: str) -> Checkpoint:
    """Open a signed checkpoint from the log `origin` and parse it.

    Raises:
        NoteError: forged, unsigned by `verifier`, malformed, or from another log.
    """
    checkpoint = Checkpoint.parse(open_note(note, [verifier]))
    if checkpoint.origin != origin:
        raise NoteError(f"checkpoint is from {checkpoint.origin!r}, expected {origin!r}")
    return checkpoint
