"""Writing blobs into the image store (nsbox.image.store): a download of a known digest,
resumed after an interruption and verified before it is stored (BlobWriter, Ingest), and a
file that hashes what is written through it (HashingFile, for ImageStore.write_new_blob)."""
from __future__ import annotations

import os

from nsbox.errors import ImageError
from nsbox.image.store import ImageStore, digest_hex
from nsbox.linux.store_files import locked


class HashingFile:
    """A write-only file that hashes what passes through it (tarfile's stream mode writes here)."""

    def __init__(self, file) -> None:
        import hashlib
        self.file = file
        self.sha256 = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.sha256.update(data)
        self.size += len(data)
        return self.file.write(data)

    def digest(self) -> str:
        return "sha256:" + self.sha256.hexdigest()


class Ingest:
    """A blob being written: data appended to a .partial file and hashed on the way."""

    def __init__(self, path: str) -> None:
        import hashlib
        self.path = path
        self.sha256 = hashlib.sha256()
        self.file = open(path, "ab+", buffering=0)  # unbuffered: a streaming reader sees each write
        self.file.seek(0)
        while chunk := self.file.read(1 << 20):
            self.sha256.update(chunk)
        self.offset = self.file.tell()

    def write(self, data: bytes | memoryview) -> None:
        unwritten = data
        while unwritten:
            unwritten = unwritten[self.file.write(unwritten):]
        self.sha256.update(data)
        self.offset += len(data)

    def restart(self) -> None:
        """Throw away what was written (the server would not resume)."""
        self.file.truncate(0)
        self.file.seek(0)
        import hashlib
        self.sha256 = hashlib.sha256()
        self.offset = 0

    def digest(self) -> str:
        return "sha256:" + self.sha256.hexdigest()


class BlobWriter:
    """The context manager of ImageStore.ingest (see there)."""

    def __init__(self, store: ImageStore, digest: str, size: int | None, verified=None) -> None:
        self.store = store
        self.digest = digest
        self.size = size
        self.verified = verified
        self.path = store.blob_path(digest)
        self.lock: locked | None = None
        self.ingest: Ingest | None = None

    def __enter__(self) -> Ingest | None:
        if os.path.exists(self.path):
            return None
        self.store.create()
        hex_digest = digest_hex(self.digest)
        self.lock = locked(os.path.join(self.store.ingest_dir, hex_digest + ".lock"), remove=True)
        self.lock.__enter__()
        if os.path.exists(self.path):
            return None
        try:
            self.ingest = Ingest(os.path.join(self.store.ingest_dir, hex_digest + ".partial"))
        except BaseException:
            self.lock.__exit__()
            raise
        return self.ingest

    def __exit__(self, kind, error, trace) -> None:
        ingest = self.ingest
        try:
            if ingest is not None:
                try:
                    if kind is None:
                        self._finish(ingest)
                finally:
                    ingest.file.close()
        finally:
            if self.lock is not None:
                self.lock.__exit__()

    def _finish(self, ingest: Ingest) -> None:
        if (self.size is not None and ingest.offset != self.size) or ingest.digest() != self.digest:
            os.unlink(ingest.path)
            expected = "" if self.size is None else f" (expected {self.size} bytes)"
            raise ImageError(f"blob {self.digest}: received {ingest.offset} bytes hashing to {ingest.digest()}"
                             f"{expected}; not stored")
        if self.verified is not None:
            self.verified()
        ingest.file.flush()
        os.fsync(ingest.file.fileno())
        os.rename(ingest.path, self.path)
