"""Code a user writes against the public API; `mypy --strict` must accept it (CI checks)."""
from __future__ import annotations

import asyncio

import nsbox


def sandbox(snippet: str) -> str:
    result: nsbox.Result = nsbox.run("busybox", ["sh", "-c", snippet], memory="128m", cpus=0.5,
                                     network="none", timeout=5, text=True)
    if result.timed_out or result.oom_killed:
        return "killed"
    assert isinstance(result.stdout, str)
    return result.stdout


def detached(client: nsbox.Client) -> int:
    container = client.containers.create("busybox", ["sleep", "1"], name="typed")
    with container:
        container.start()
        status = container.wait(timeout=10)["StatusCode"]
        lines: list[bytes] = list(container.logs(tail=5))
        print(container.id, container.name, container.status, container.pid, container.labels, lines)
    assert isinstance(status, int)
    return status


async def concurrently() -> list[int]:
    results = await asyncio.gather(*(nsbox.arun("busybox", ["true"]) for _ in range(3)))
    return [result.exit_code for result in results]


def images() -> list[str]:
    try:
        image: nsbox.Image = nsbox.images.get("busybox")
    except nsbox.ImageNotFound as error:
        return [str(error)]
    return image.tags


def errors() -> None:
    try:
        nsbox.run("busybox", ["true"], name="x")
    except nsbox.NameInUse:
        pass
    except nsbox.InvalidOption as error:
        print(error.option, error.reason)
    except nsbox.LimitUnsupported as error:
        print(error.limit, error.reason)
    except nsbox.RuntimeFailed as error:
        print(error.exit_code, error.stderr)


def networks(client: nsbox.Client) -> list[str]:
    network: nsbox.Network = client.networks.create("typednet", internal=True, labels={"a": "b"})
    try:
        container = client.containers.create("busybox", ["true"], network=network)
        network.connect(container, aliases=["other"])
        network.disconnect(container.name)
        return [c.name for c in network.containers] + [n.id for n in client.networks.list(names=["typednet"])]
    except nsbox.NetworkNotFound:
        return []
    finally:
        network.remove()
