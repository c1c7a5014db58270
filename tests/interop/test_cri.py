"""containerd's CRI, driven as the kubelet drives it, with the runtime handler under test.

containerd (Debian's 1.6) gets a config whose CRI plugin has the handlers `nsbox`
(io.containerd.runc.v2 with BinaryName = nsbox-runtime) and `runc`; the pod uses the
host's network, so no CNI is needed. The CRI client speaks gRPC on containerd's socket.
"""
from __future__ import annotations

import os
import shutil
import socket
import time

import pytest

from tests.conftest import CGROUP_PARENT
from tests.interop.conftest import show_log_on_failure
from tests.interop.daemons import Containerd
from tests.interop.runtimes import replay
from tests.leaks import remove_cgroup_tree

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("containerd") is None, reason="containerd is not installed (apt-get install containerd)"),
]

MEMORY_LIMIT = 64 << 20
CPU_PERIOD, CPU_QUOTA = 100000, 50000


@pytest.fixture(scope="session")
def cri_messages(tmp_path_factory):
    pytest.importorskip("grpc_tools", reason="the CRI tests need grpcio-tools (pip install -e '.[test]')")
    from tests.interop.cri import compile_messages
    return compile_messages(str(tmp_path_factory.mktemp("cri-proto")))


@pytest.fixture
def cri(request, tmp_path, oci_runtime, images_archive, cri_messages):
    from tests.interop.cri import CriClient
    daemon = Containerd(str(tmp_path), [oci_runtime])
    show_log_on_failure(request, daemon.log)
    client = None
    try:
        daemon.ctr("images", "import", images_archive, namespace="k8s.io")
        client = CriClient(cri_messages, daemon.socket)
        yield client
    finally:
        if client is not None:
            client.close()
        daemon.stop()


def sandbox_config(m, log_directory: str, cgroup_parent: str):
    """A host-network pod, as the kubelet describes one (no hostname: it is the node's)."""
    namespaces = m.NamespaceOption(network=m.NODE, pid=m.CONTAINER, ipc=m.POD)
    return m.PodSandboxConfig(
        metadata=m.PodSandboxMetadata(name="nsbox-pod", uid="uid-1", namespace="default"),
        log_directory=log_directory,
        linux=m.LinuxPodSandboxConfig(cgroup_parent=cgroup_parent,
                                      security_context=m.LinuxSandboxSecurityContext(namespace_options=namespaces)))


def container_config(m, args: list[str]):
    resources = m.LinuxContainerResources(memory_limit_in_bytes=MEMORY_LIMIT, cpu_period=CPU_PERIOD,
                                          cpu_quota=CPU_QUOTA, cpu_shares=512)
    namespaces = m.NamespaceOption(network=m.NODE, pid=m.CONTAINER, ipc=m.POD)
    return m.ContainerConfig(
        metadata=m.ContainerMetadata(name="app"), image=m.ImageSpec(image="busybox:latest"), command=args,
        log_path="app/0.log",
        linux=m.LinuxContainerConfig(resources=resources,
                                     security_context=m.LinuxContainerSecurityContext(namespace_options=namespaces)))


def host_cgroup_file(cgroup_lines: str, controller: str, name: str) -> str:
    """Read a container's cgroup file on the host, from the path its /proc/self/cgroup names."""
    for line in cgroup_lines.splitlines():
        _, controllers, path = line.split(":", 2)
        if controller in controllers.split(","):
            with open(os.path.join("/sys/fs/cgroup", controller, path.lstrip("/"), name)) as file:
                return file.read().strip()
    raise AssertionError(f"no {controller} line in the container's /proc/self/cgroup:\n{cgroup_lines}")


def test_cri_pod_lifecycle_with_the_runtime_handler(cri, oci_runtime, tmp_path):
    m = cri.messages
    pod_parent = f"{CGROUP_PARENT}/pod-{oci_runtime.name}-{tmp_path.name[-12:]}"
    pod_config = sandbox_config(m, str(tmp_path / "pod-logs"), pod_parent)
    try:
        assert cri.call("ImageStatus", image=m.ImageSpec(image="busybox")).image.repo_tags
        pod = cri.call("RunPodSandbox", config=pod_config, runtime_handler=oci_runtime.name).pod_sandbox_id
        oci_runtime.assert_runs(pod)  # the pause container too ran with the handler's runtime
        created = cri.call("CreateContainer", pod_sandbox_id=pod, config=container_config(m, ["sleep", "1000"]),
                           sandbox_config=pod_config)
        container = created.container_id
        cri.call("StartContainer", container_id=container)
        status = cri.call("ContainerStatus", container_id=container, verbose=True)
        assert status.status.state == m.CONTAINER_RUNNING
        oci_runtime.assert_runs(container)
        for replayed_id in (pod, container):  # their config.json files run again with nsbox-runtime
            replayed = replay(oci_runtime, replayed_id, str(tmp_path), f"{pod_parent}/replay-{replayed_id[:12]}")
            assert (replayed.returncode, replayed.stdout) == (0, "replayed as pid 1\n"), replayed.stderr

        hostname = cri.call("ExecSync", container_id=container, cmd=["hostname"], timeout=30)
        assert (hostname.exit_code, hostname.stdout.decode().strip()) == (0, socket.gethostname())  # host network
        cgroups = cri.call("ExecSync", container_id=container, cmd=["cat", "/proc/self/cgroup"], timeout=30)
        assert cgroups.exit_code == 0, cgroups.stderr
        lines = cgroups.stdout.decode()
        assert f"{pod_parent}/{container}" in lines
        assert int(host_cgroup_file(lines, "memory", "memory.limit_in_bytes")) == MEMORY_LIMIT
        assert int(host_cgroup_file(lines, "cpu", "cpu.cfs_quota_us")) == CPU_QUOTA
        assert int(host_cgroup_file(lines, "cpu", "cpu.cfs_period_us")) == CPU_PERIOD
        assert int(host_cgroup_file(lines, "cpu", "cpu.shares")) == 512

        # the kubelet resizes a running container: the shim pipes the resources to `update -r -`
        cri.call("UpdateContainerResources", container_id=container,
                 linux=m.LinuxContainerResources(memory_limit_in_bytes=2 * MEMORY_LIMIT, cpu_period=CPU_PERIOD,
                                                 cpu_quota=2 * CPU_QUOTA, cpu_shares=512))
        assert int(host_cgroup_file(lines, "memory", "memory.limit_in_bytes")) == 2 * MEMORY_LIMIT
        assert int(host_cgroup_file(lines, "cpu", "cpu.cfs_quota_us")) == 2 * CPU_QUOTA

        stats = cri.call("ContainerStats", container_id=container).stats
        assert stats.attributes.id == container
        assert stats.cpu.usage_core_nano_seconds.value > 0
        assert stats.memory.working_set_bytes.value > 0

        cri.call("StopContainer", container_id=container, timeout=1)
        status = cri.call("ContainerStatus", container_id=container).status
        assert status.state == m.CONTAINER_EXITED
        assert status.exit_code == 137  # sleep as PID 1 ignores SIGTERM: killed after the timeout
        cri.call("RemoveContainer", container_id=container)
        cri.call("StopPodSandbox", pod_sandbox_id=pod)
        cri.call("RemovePodSandbox", pod_sandbox_id=pod)
        oci_runtime.assert_deleted()
    finally:
        remove_cgroup_tree(pod_parent)  # the kubelet removes a pod's cgroup parent; here the test does


def test_cri_runtime_handler_failure_is_reported(cri, oci_runtime, tmp_path):
    """A container whose program does not exist: the runtime's own error reaches the CRI caller."""
    m = cri.messages
    pod_parent = f"{CGROUP_PARENT}/pod-{oci_runtime.name}-{tmp_path.name[-12:]}"
    pod_config = sandbox_config(m, str(tmp_path / "pod-logs"), pod_parent)
    import grpc
    try:
        pod = cri.call("RunPodSandbox", config=pod_config, runtime_handler=oci_runtime.name).pod_sandbox_id
        created = cri.call("CreateContainer", pod_sandbox_id=pod, config=container_config(m, ["/no/such/program"]),
                           sandbox_config=pod_config)
        with pytest.raises(grpc.RpcError) as failure:
            cri.call("StartContainer", container_id=created.container_id)
        # the runtime's own error, read by the shim from the runtime's --log (JSON lines)
        assert oci_runtime.failed("create") in failure.value.details()
        assert "/no/such/program" in failure.value.details()
        cri.call("RemoveContainer", container_id=created.container_id)
        cri.call("StopPodSandbox", pod_sandbox_id=pod)
        cri.call("RemovePodSandbox", pod_sandbox_id=pod)
        oci_runtime.assert_deleted()
    finally:
        remove_cgroup_tree(pod_parent)

