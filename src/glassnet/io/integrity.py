"""Checksums that make a corrupted model file an error instead of a different model.

From format version 3 on, a model file carries two kinds of SHA-256 digests:

- ``tensor_sha256`` in the glassnet document: ``{name: sha256(bytes of that tensor)}`` for
  every tensor in the file, the bytes as stored (C order, little-endian). A bit flipped
  anywhere in the tensor bytes changes one digest, and the error names that tensor.
- ``glassnet_sha256`` next to the document in the safetensors metadata: the digest of the
  document's text, so a change to a layer's config, the optimizer or the preprocessing is
  caught as well (the digests of the tensors are part of that text).

The digests guard against accidents — a bad disk, a broken copy, a truncated download —
not against someone who rewrites the file and its digests on purpose; for that, keep the
file where only you can write it.

Files of format versions 1 and 2 predate the digests: they still load (their document is
checked against its schema and their tensors against the model), but a flipped bit in their
tensor bytes cannot be noticed. Saving such a model again writes the digests.
"""

from __future__ import annotations

import hashlib
import json

import numpy as np

from glassnet.io.errors import ModelFileError, shown

DOCUMENT_KEY = "glassnet"
DIGEST_KEY = "glassnet_sha256"


def stored_bytes(array: np.ndarray) -> bytes:
    """The bytes safetensors stores for ``array``: C order, little-endian."""
    little = array.dtype.newbyteorder("<")
    return np.ascontiguousarray(array, dtype=little).tobytes()


def tensor_digests(tensors: dict[str, np.ndarray]) -> dict[str, str]:
    """``{name: hex SHA-256 of the tensor's stored bytes}``, by name."""
    return {
        name: hashlib.sha256(stored_bytes(t)).hexdigest() for name, t in sorted(tensors.items())
    }


def sealed_metadata(document: dict, tensors: dict[str, np.ndarray]) -> dict[str, str]:
    """The safetensors metadata for ``document`` and ``tensors``: the document with the
    tensors' digests added, and the digest of the document's text."""
    document = {**document, "tensor_sha256": tensor_digests(tensors)}
    text = json.dumps(document, allow_nan=True)
    return {DOCUMENT_KEY: text, DIGEST_KEY: hashlib.sha256(text.encode()).hexdigest()}


def check_document(metadata: dict, version: int, where: str) -> None:
    """The document's text against ``glassnet_sha256`` (required from format version 3)."""
    digest = metadata.get(DIGEST_KEY)
    if digest is None:
        if version >= 3:
            raise ModelFileError(
                f"{where} is corrupted: its format version {version} document has no checksum"
            )
        return
    actual = hashlib.sha256(metadata[DOCUMENT_KEY].encode("utf-8", "surrogatepass")).hexdigest()
    if actual != digest:
        raise ModelFileError(
            f"{where}: its glassnet document does not match its checksum: the file is corrupted"
        )


def check_tensors(data: bytes, body: int, table: dict, digests: dict[str, str], where) -> None:
    """Every tensor's bytes against its digest; a tensor without one (or a digest without a
    tensor) is refused too."""
    for name in sorted(set(table) ^ set(digests)):
        held = "has no checksum" if name in table else "has a checksum but is not in the file"
        raise ModelFileError(f"{where} is corrupted: tensor {shown(name)} {held}")
    view = memoryview(data)
    for name, (_, _, begin, end) in table.items():
        if hashlib.sha256(view[body + begin : body + end]).hexdigest() != digests[name]:
            raise ModelFileError(
                f"{where}: tensor {shown(name)} does not match its checksum: the file is corrupted"
            )
