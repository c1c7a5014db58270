"""Unpacking a layer while it downloads: the unpacker reads the blob's .partial file as
the download appends to it, so a pull does not wait for every byte before it starts
writing files.

The layer directory is only renamed into place once the unpacker has read the end of
the stream, and the end is only given once the download's digest has been verified: a
blob that turns out wrong leaves nothing behind. If the download has to start over (a
server that ignores Range), the streamed unpack is abandoned and redone from the blob.
"""
from __future__ import annotations

TYPE_CHECKING = False  # typing costs ~12 ms to import: only the type checker reads this
if TYPE_CHECKING:
    from typing import BinaryIO

import os
import threading

from nsbox.image.store import ImageStore, digest_hex

_CHUNK = 1 << 20


class Abandoned(Exception):
    """The download failed or restarted; what was streamed so far is useless."""


class Feed:
    """What a download tells the unpacker that follows it."""

    def __init__(self) -> None:
        self.condition = threading.Condition()
        self.done = False
        self.ok = False
        self.restarted = False
        self.complete = False  # every byte is written and verified (the blob may not be in place yet)

    def wrote(self, amount: int = 0, reset: bool = False) -> None:
        with self.condition:
            if reset:
                self.restarted = True
            self.condition.notify_all()

    def verified(self) -> None:
        """The download has written and verified every byte: a follower may read to the end."""
        with self.condition:
            self.complete = True
            self.condition.notify_all()

    def wait(self) -> bool:
        """Wait for the download to end; True if it stored the blob."""
        with self.condition:
            while not self.done:
                self.condition.wait()
            return self.ok

    def finish(self, ok: bool) -> None:
        """The download ended (the first word counts: a pull that gives up cannot be overruled)."""
        with self.condition:
            if not self.done:
                self.done = True
                self.ok = ok
            self.condition.notify_all()


class Follower:
    """A raw reader of a blob that is still being written: waits at the end of the
    .partial file until more arrives, and ends only when the download has verified it."""

    def __init__(self, store: ImageStore, digest: str, feed: Feed) -> None:
        self.partial = os.path.join(store.ingest_dir, digest_hex(digest) + ".partial")
        self.blob = store.blob_path(digest)
        self.feed = feed
        self.file: BinaryIO | None = None

    def _open(self) -> bool:
        for path in (self.partial, self.blob):
            try:
                self.file = open(path, "rb", buffering=0)
                return True
            except FileNotFoundError:
                continue
        return False

    def read(self, size: int = -1) -> bytes:
        feed = self.feed
        while True:
            if self.file is not None:
                data = self.file.read(_CHUNK if size < 0 else size)
                if data:
                    return data
            with feed.condition:
                if feed.restarted or (feed.done and not feed.ok):
                    raise Abandoned()
                finished = feed.done or feed.complete
                if not finished and self.file is None and not self._open():
                    feed.condition.wait(0.05)
                    continue
            if finished:
                if self.file is None and not self._open():
                    raise Abandoned()
                assert self.file is not None  # _open() succeeded
                return self.file.read(_CHUNK if size < 0 else size)
            with feed.condition:
                if not feed.done and not feed.complete and not feed.restarted:
                    feed.condition.wait(0.05)

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
