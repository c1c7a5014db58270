"""A layer blob as the tar stream inside it: gzip, zstd or plain, recognised by its first
bytes, decompressed in chunks and hashed on the way (the digest is the layer's diff ID)."""
from __future__ import annotations

import hashlib

from nsbox.errors import ImageError

_CHUNK = 1 << 20


class LayerStream:
    """The uncompressed tar stream of a layer, read forward only (TarFile needs no more),
    hashed as it is decompressed: its digest is the layer's diff ID.

    File contents are taken as views of the decompressed chunks (view()), so a byte is
    copied once between the decompressor and the file it goes to.
    """

    def __init__(self, raw, chunks) -> None:
        self.raw = raw
        self.chunks = chunks  # an iterator of non-empty bytes
        self.sha256 = hashlib.sha256()
        self.chunk = memoryview(b"")
        self.offset = 0  # in chunk
        self.position = 0  # in the stream

    def view(self, size: int) -> memoryview:
        """The next bytes, at most `size` (fewer at the end of a chunk); empty at the end of the stream."""
        if self.offset == len(self.chunk):
            chunk = next(self.chunks, None)
            if chunk is None:
                return self.chunk[:0]
            self.sha256.update(chunk)
            self.chunk = memoryview(chunk)
            self.offset = 0
        end = min(self.offset + size, len(self.chunk))
        piece = self.chunk[self.offset:end]
        self.position += end - self.offset
        self.offset = end
        return piece

    def read(self, size: int = -1) -> bytes:
        """`size` bytes (all that is left if size < 0), fewer only at the end of the stream."""
        pieces = []
        while size != 0:
            piece = self.view(_CHUNK if size < 0 else size)
            if not piece:
                break
            pieces.append(piece)
            if size > 0:
                size -= len(piece)
        return b"".join(pieces)

    def tell(self) -> int:
        return self.position

    def seek(self, position: int, whence: int = 0) -> int:
        """Skip forward to `position` (a layer stream cannot go back)."""
        if whence != 0 or position < self.position:
            raise ImageError("a layer stream is read forward only")
        while self.position < position and self.view(position - self.position):
            pass
        return self.position

    def digest(self) -> str:
        """The diff ID: the digest of the whole stream (what is still unread is read for it)."""
        while self.view(_CHUNK):
            pass
        return "sha256:" + self.sha256.hexdigest()

    def close(self) -> None:
        self.raw.close()


def _gunzip(raw, data: bytes):
    """The uncompressed chunks of a gzip stream (one or more members), at most _CHUNK each.

    zlib-ng, in large chunks: it inflates two to three times as fast as zlib and checks
    the CRC with the CPU's carry-less multiply (in zlib that check alone cost as much as
    inflating incompressible data).
    """
    from zlib_ng import zlib_ng
    decompressor = zlib_ng.decompressobj(31)
    in_member = held = False
    while True:
        if not data and not held:
            data = raw.read(_CHUNK)
            if not data:
                if in_member:
                    raise ImageError("the layer's gzip stream ends early (truncated)")
                return
        in_member = True
        try:
            output = decompressor.decompress(data, _CHUNK)
        except zlib_ng.error as error:  # type: ignore[misc]  # zlib_ng has no type stubs for its error
            raise ImageError(f"the layer's gzip stream is damaged ({error})") from None
        held = len(output) == _CHUNK  # zlib may hold more output for the input it has taken
        data = decompressor.unconsumed_tail
        if output:
            yield output
        if decompressor.eof:
            data = decompressor.unused_data  # a further gzip member, if any
            decompressor = zlib_ng.decompressobj(31)
            in_member = held = False


def _unzstd(raw):
    """The uncompressed chunks of a zstd stream (one or more frames)."""
    import zstandard  # only for zstd layers: it costs tens of milliseconds to import
    reader = zstandard.ZstdDecompressor().stream_reader(raw, read_size=_CHUNK, read_across_frames=True)
    try:
        while chunk := reader.read(_CHUNK):
            yield chunk
    except zstandard.ZstdError as error:
        raise ImageError(f"the layer's zstd stream is damaged ({error})") from None


def _plain(raw, data: bytes):
    while data:
        yield data
        data = raw.read(_CHUNK)


class _Prefixed:
    """A raw stream with the bytes already read from its start put back."""

    def __init__(self, raw, prefix: bytes) -> None:
        self.raw = raw
        self.prefix = prefix

    def read(self, size: int = -1) -> bytes:
        if self.prefix:
            data = self.prefix if size < 0 or size >= len(self.prefix) else self.prefix[:size]
            self.prefix = self.prefix[len(data):]
            return data
        return self.raw.read(size)


def layer_stream(raw) -> LayerStream:
    """The uncompressed tar stream of a layer read from `raw`: plain tar, gzip or zstd."""
    start = b""
    while len(start) < 4:
        data = raw.read(_CHUNK)
        if not data:
            break
        start += data
    if start[:2] == b"\x1f\x8b":
        return LayerStream(raw, _gunzip(raw, start))
    if start[:4] == b"\x28\xb5\x2f\xfd":
        return LayerStream(raw, _unzstd(_Prefixed(raw, start)))
    return LayerStream(raw, _plain(raw, start))
