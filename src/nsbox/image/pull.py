"""Pulling an image: manifest (the platform's, from an index), config, layers in parallel,
each layer verified and unpacked once; the reference is recorded last.
"""
from __future__ import annotations

import os
import threading

from nsbox.errors import ImageError
from nsbox.image import credentials
from nsbox.image.reference import Reference, parse_reference
from nsbox.image.registry import RegistryClient
from nsbox.image.store import Image, ImageStore
from nsbox.oci import image_spec, jsonio
from nsbox.image.platform import host_platform
from nsbox.oci.image_spec import Platform

PARALLEL_DOWNLOADS = 6
PARALLEL_UNPACKS = PARALLEL_DOWNLOADS  # every layer in flight is unpacked as its bytes arrive

def pick_platform(index: image_spec.Index, wanted: Platform, name: str) -> image_spec.Descriptor:
    """The index entry for `wanted` (a missing variant matches any; arm64 accepts v8 or none)."""
    candidates = [entry for entry in index.manifests
                  if entry.platform is not None and entry.platform.os == wanted.os
                  and entry.platform.architecture == wanted.architecture]
    if wanted.variant:
        exact = [entry for entry in candidates if entry.platform.variant == wanted.variant]  # type: ignore[union-attr]
        loose = [entry for entry in candidates if not entry.platform.variant]  # type: ignore[union-attr]
        candidates = exact or loose
    if not candidates:
        offered = ", ".join(str(entry.platform) for entry in index.manifests if entry.platform) or "none"
        raise ImageError(f"{name} has no image for platform {wanted} (it has: {offered}); choose one with --platform")
    return candidates[0]


class NoProgress:
    """The progress interface pull() reports to; this one shows nothing."""

    def layer(self, digest: str, size: int, state: str = "download"):
        return lambda advance, reset=False: None

    def status(self, digest: str, text: str) -> None:
        pass


def configured_insecure_registries(root: str) -> tuple[str, ...]:
    """The hosts <root>/registries.json lists as plain HTTP ({"insecure-registries": [...]},
    the key Docker's daemon.json uses)."""
    path = os.path.join(root, "registries.json")
    try:
        with open(path, "rb") as source:
            listed = jsonio.loads(source.read()).get("insecure-registries", [])
    except FileNotFoundError:
        return ()
    except (ValueError, AttributeError) as error:
        raise ImageError(f"{path}: must be a JSON object with \"insecure-registries\": [hosts] ({error})") from None
    if not isinstance(listed, list) or not all(isinstance(host, str) for host in listed):
        raise ImageError(f"{path}: \"insecure-registries\" must be an array of host[:port] strings")
    return tuple(listed)


def client_for(root: str, reference: Reference, insecure_registries: tuple[str, ...] = ()) -> RegistryClient:
    """A client for the reference's registry: plain HTTP on loopback, for the hosts given and
    for those in <root>/registries.json; credentials from `nsbox login` or Docker's config."""
    insecure = set(insecure_registries) | set(configured_insecure_registries(root))
    return RegistryClient(reference.endpoint, insecure=bool({reference.domain, reference.endpoint} & insecure),
                          credentials=credentials.lookup(root, reference.domain))


def pull(root: str, text: str, platform: Platform | None = None, insecure_registries: tuple[str, ...] = (),
         progress=None) -> Image:
    """Pull `text` (a reference) into the store at `root`; return the image."""
    reference = parse_reference(text)
    client = client_for(root, reference, insecure_registries)
    store = ImageStore(root)
    progress = progress or NoProgress()
    wanted = platform or host_platform()
    with store.pulling():
        body, media_type, digest = client.get_manifest(reference.path, reference.digest or reference.tag)  # type: ignore[arg-type]
        if media_type in image_spec.INDEX_TYPES:
            index = image_spec.parse_index(body, f"index of {reference}")
            store.write_blob(body, digest)
            chosen = pick_platform(index, wanted, str(reference))
            body, media_type, digest = client.get_manifest(reference.path, chosen.digest)
        manifest = image_spec.parse_manifest(body, f"manifest of {reference}")
        config_bytes = fetch_small_blob(client, store, reference.path, manifest.config)
        config = image_spec.parse_config(config_bytes, f"config of {reference}")
        if len(config.diff_ids) != len(manifest.layers):
            raise ImageError(f"{reference}: the config lists {len(config.diff_ids)} layers, "
                             f"the manifest {len(manifest.layers)}")

        if manifest.layers:
            _fetch_layers(client, store, reference.path, list(zip(manifest.layers, config.diff_ids)), progress)
        store.write_blob(body, digest)
        store.set_reference(str(reference), digest, len(body), media_type)
    return store.image(digest)


def _fetch_layers(client: RegistryClient, store: ImageStore, repository: str,
                  layers: list[tuple[image_spec.Descriptor, str]], progress) -> None:
    """Download the layers in parallel and unpack each as its bytes arrive (see stream.py)."""
    _LayerFetch(client, store, repository, progress).run(layers)


class _LayerFetch:
    """One pull's layers: downloads and unpacks in worker threads, each unpack following
    its download's bytes; one failure (or ^C) stops them all."""

    def __init__(self, client: RegistryClient, store: ImageStore, repository: str, progress) -> None:
        self.client = client
        self.store = store
        self.repository = repository
        self.progress = progress
        self.status_lock = threading.Lock()
        self.unpacked: set[str] = set()
        self.stop = threading.Event()  # set when one layer failed or the user pressed ^C: the rest give up
        self.feeds: list = []
        self.failures: list[BaseException] = []
        self.workers = _Workers(self.give_up)

    def run(self, layers: list[tuple[image_spec.Descriptor, str]]) -> None:
        from nsbox.image.stream import Feed
        self.feeds = [Feed() for _ in layers]
        workers = self.workers
        try:
            workers.start([lambda l=layer, d=diff_id, f=feed: self.unpack(l, d, f)
                           for (layer, diff_id), feed in zip(layers, self.feeds)], PARALLEL_UNPACKS)
            workers.start([lambda l=layer, f=feed: self.download(l, f) for (layer, _), feed in zip(layers, self.feeds)],
                          PARALLEL_DOWNLOADS)
            workers.wait()
        except BaseException:
            self.give_up(None)
            workers.wait()
            raise
        if self.failures:
            raise self.failures[0]

    def download(self, layer: image_spec.Descriptor, feed) -> None:
        from nsbox.image.stream import Abandoned
        advance = self.progress.layer(layer.digest, layer.size)

        def wrote(amount: int, reset: bool = False) -> None:
            if self.stop.is_set():
                raise Abandoned()  # the .partial file stays, for the next pull to resume
            advance(amount, reset)
            feed.wrote(amount, reset)
        try:
            with self.store.ingest(layer.digest, layer.size, verified=feed.verified) as ingest:
                if ingest is not None:
                    wrote(ingest.offset)
                    self.client.download_blob(self.repository, layer.digest, ingest, wrote)
        except BaseException:
            feed.finish(False)
            raise
        feed.finish(True)
        with self.status_lock:
            if layer.digest not in self.unpacked:
                self.progress.status(layer.digest, "unpacking")

    def unpack(self, layer: image_spec.Descriptor, diff_id: str, feed) -> None:
        from nsbox.image.stream import Abandoned, Follower
        try:
            self.store.ensure_layer(diff_id, layer.digest, Follower(self.store, layer.digest, feed))
        except (Abandoned, ImageError, OSError):
            # the download restarted or failed, or what was streamed did not unpack: wait for
            # the download, then unpack once more from the verified blob (whose error stands)
            if not feed.wait():
                return  # the download failed, and says why
            self.store.ensure_layer(diff_id, layer.digest)
        with self.status_lock:
            self.unpacked.add(layer.digest)
            self.progress.status(layer.digest, "done")

    def give_up(self, error: BaseException | None) -> None:
        """One layer failed (or the user pressed ^C): the others stop too."""
        if error is not None:
            with self.status_lock:
                self.failures.append(error)
        self.workers.cancel()
        self.stop.set()
        self.client.abort()
        for feed in self.feeds:
            feed.finish(False)


class _Workers:
    """Threads that take jobs (callables) in turn; a job that raises is reported to `failed`
    and ends its thread.

    Plain threads, not concurrent.futures: that brings in logging, a tenth of a pull's
    imports. wait() waits on a condition rather than Thread.join, which a ^C can leave
    believing a running thread has ended (Python 3.11).
    """

    def __init__(self, failed) -> None:
        self.failed = failed
        self.ended = threading.Condition()
        self.running = 0
        self.queues: list = []

    def start(self, jobs: list, count: int) -> None:
        import collections
        waiting = collections.deque(jobs)
        self.queues.append(waiting)

        def work() -> None:
            try:
                while waiting:
                    try:
                        job = waiting.popleft()
                    except IndexError:
                        return
                    job()
            except BaseException as error:
                self.failed(error)
            finally:
                with self.ended:
                    self.running -= 1
                    self.ended.notify_all()

        for _ in range(min(count, len(jobs))):
            threading.Thread(target=work, name="nsbox-pull").start()
            with self.ended:  # counted once started (until wait() it may dip below zero)
                self.running += 1

    def cancel(self) -> None:
        """Start no more jobs (those running go on)."""
        for waiting in self.queues:
            waiting.clear()

    def wait(self) -> None:
        """Until every thread has ended."""
        with self.ended:
            while self.running:
                self.ended.wait()


def fetch_small_blob(client: RegistryClient, store: ImageStore, repository: str,
                     descriptor: image_spec.Descriptor) -> bytes:
    """A config-sized blob: from the store if there, else downloaded, verified and stored."""
    if not store.has_blob(descriptor.digest):
        with store.ingest(descriptor.digest, descriptor.size) as ingest:
            if ingest is not None:
                client.download_blob(repository, descriptor.digest, ingest)
    return store.read_blob(descriptor.digest)
