"""asyncio: await nsbox.arun(...) and container.wait_async() block no event loop and
leave no thread behind."""
from __future__ import annotations

import asyncio
import os
import threading

import pytest

import nsbox


def test_arun_runs_many_at_once(client):
    # each container notes the host's uptime (no time namespace) as it starts and as it ends
    script = "cut -d' ' -f1 /proc/uptime; sleep 3; cut -d' ' -f1 /proc/uptime; echo {n}"

    async def main() -> list:
        return await asyncio.gather(*(client.arun("busybox", ["sh", "-c", script.format(n=n)]) for n in range(4)))
    results = asyncio.run(main())
    lines = [r.stdout.decode().split() for r in results]
    assert [line[2] for line in lines] == [str(n) for n in range(4)]
    starts, ends = [float(line[0]) for line in lines], [float(line[1]) for line in lines]
    assert max(starts) < min(ends)  # all four ran at once, not one after another
    assert threading.active_count() == 1


def test_the_loop_stays_responsive(client, tmp_path):
    """arun leaves the event loop free while the container runs: the container waits for a
    file that another coroutine makes after ten ticks of the loop (with a blocked loop, the
    ticks would come only once the run had timed out)."""
    async def main():
        task = asyncio.ensure_future(client.arun("busybox", ["sh", "-c", "until [ -e /shared/go ]; do sleep 0.01; done"],
                                                 volumes=[f"{tmp_path}:/shared"], network="none", timeout=30))
        for _ in range(10):
            await asyncio.sleep(0.01)
        assert not task.done(), task
        (tmp_path / "go").touch()
        return await task
    result = asyncio.run(main())
    assert (result.returncode, result.timed_out) == (0, False)


def test_arun_errors_and_check(client):
    async def main() -> None:
        with pytest.raises(nsbox.ImageNotFound):
            await client.arun("nosuch", ["true"])
        with pytest.raises(nsbox.RuntimeFailed):
            await client.arun("busybox", ["false"], check=True)
        result = await client.arun("busybox", ["sleep", "10"], timeout=0.3)
        assert result.timed_out
    asyncio.run(main())


def test_cancelling_arun_kills_and_removes_the_container(client):
    async def main() -> None:
        task = asyncio.ensure_future(client.arun("busybox", ["sleep", "600"], name="cancelled"))
        while not client.containers.list():
            await asyncio.sleep(0.02)
        pid = client.containers.get("cancelled").pid
        task.cancel()
        # a guard, not a measure: a cancel that let the process run on would wait 600 s
        done, _ = await asyncio.wait({task}, timeout=120)
        if task not in done:
            client.containers.get("cancelled").kill()  # (to fail now rather than in 600 s)
            raise AssertionError("the cancelled run waits for its process: it was not killed")
        with pytest.raises(asyncio.CancelledError):
            await task
        assert not client.containers.list(all=True)
        assert not os.path.exists(f"/proc/{pid}")  # killed and reaped
    asyncio.run(main())


def test_wait_async(client, monkeypatch):
    """The loop is woken by the container's process ending (a pidfd), not by a clock: with
    the periodic recheck an hour away, the exit is still seen (60 s: a guard against a hang)."""
    monkeypatch.setattr("nsbox.api.containers.RECHECK", 3600.0)

    async def main(container) -> dict:
        return await asyncio.wait_for(container.wait_async(), 60)
    container = client.containers.run("busybox", ["sh", "-c", "sleep 0.3; exit 7"], detach=True)
    watched = container.pid
    try:
        try:
            ended = asyncio.run(main(container))
        except TimeoutError:  # say what the store and the kernel showed, to tell which side missed it
            container.reload()
            state = {k: container.attrs["State"].get(k) for k in ("Status", "Pid", "ExitCode", "Error")}
            raise AssertionError(f"wait_async missed the exit: watched PID {watched}, now {state}, "
                                 f"/proc/{watched} exists: {os.path.exists(f'/proc/{watched}')}") from None
        assert ended == {"StatusCode": 7, "OOMKilled": False, "Error": None}
        assert threading.active_count() == 1, threading.enumerate()
    finally:
        container.remove(force=True)


def test_wait_async_timeout(client):
    async def main(container) -> None:
        with pytest.raises(nsbox.WaitTimeout):
            await container.wait_async(timeout=0.2)
    with client.containers.run("busybox", ["sleep", "30"], detach=True) as container:
        asyncio.run(main(container))
