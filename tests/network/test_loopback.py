"""lo is up (127.0.0.1/8 and ::1) in every container with its own network namespace."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.v2_lane


def test_none_has_only_lo_and_it_is_up(nsbox):
    out = nsbox.out("run", "--rm", "--network", "none", "busybox", "sh", "-c",
                    "ls /sys/class/net; ip -o addr show lo; ping -c1 -W2 127.0.0.1 >/dev/null && echo pinged")
    lines = out.splitlines()
    assert lines[0] == "lo"  # nothing but lo
    assert "127.0.0.1/8" in out and "::1/128" in out
    assert lines[-1] == "pinged"


def test_a_server_on_127_0_0_1_answers_its_own_clients(nsbox):
    out = nsbox.out("run", "--rm", "--network", "none", "busybox", "sh", "-c",
                    "(echo served-inside | nc -l -p 9000 127.0.0.1 &); until nc 127.0.0.1 9000 </dev/null; do sleep 0.05; done")
    assert out.strip() == "served-inside"


def test_nsbox_runtime_brings_lo_up_in_a_new_network_namespace(runtime, make_bundle):
    bundle = make_bundle(["sh", "-c", "cat /sys/class/net/lo/operstate /sys/class/net/lo/flags"])
    result = runtime("run", "--bundle", bundle, "lo-up", check=True)
    state, flags = result.stdout.split()
    assert int(flags, 16) & 0x1, f"lo flags {flags}: not IFF_UP"
