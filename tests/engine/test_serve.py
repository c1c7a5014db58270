"""nsbox serve driven by the real clients: the docker CLI installed here and docker-py. Every
test also asks nsbox itself (its own `ps`, its store) so that it fails if any other daemon
had answered."""
from __future__ import annotations

import json
import os
import shutil
import subprocess


import pytest

from tests.image.conftest import registries  # noqa: F401 - the loopback registry fixture

DOCKER = shutil.which("docker")
pytestmark = pytest.mark.skipif(DOCKER is None, reason="the docker CLI is not installed")


class Served:
    def __init__(self, nsbox, socket: str, pid: int) -> None:
        self.nsbox = nsbox
        self.socket = socket
        self.pid = pid  # the server's
        self.env = {key: value for key, value in os.environ.items() if key != "DOCKER_CONTEXT"}
        self.env["DOCKER_HOST"] = f"unix://{socket}"
        self.env["DOCKER_CONFIG"] = os.path.join(os.path.dirname(socket), "docker-config")

    def docker(self, *args: str, check: bool = True, timeout: float = 60, **kwargs) -> subprocess.CompletedProcess:
        kwargs.setdefault("stdin", subprocess.DEVNULL)
        result = subprocess.run([DOCKER, *args], capture_output=True, text=True, timeout=timeout, env=self.env,
                                **kwargs)
        if check and result.returncode != 0:
            raise AssertionError(f"docker {' '.join(args)} exited {result.returncode}: {result.stderr}")
        return result


@pytest.fixture
def served(nsbox, tmp_path):
    socket = str(tmp_path / "nsbox.sock")
    server = subprocess.Popen(nsbox.command("serve", "-H", f"unix://{socket}"), stdin=subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    nsbox.wait_for(lambda: os.path.exists(socket), timeout=30, what="the socket")
    yield Served(nsbox, socket, server.pid)
    server.terminate()
    assert server.wait(timeout=30) == 0
    assert not os.path.exists(socket)


def test_ping_and_version_negotiation(served):
    version = json.loads(served.docker("version", "--format", "{{json .}}").stdout)
    assert version["Server"]["ApiVersion"] == "1.44" and version["Server"]["Platform"]["Name"] == "nsbox"
    assert version["Client"]["ApiVersion"] == "1.44"  # the client negotiated down to nsbox's version


def test_docker_run_rm_gives_output_exit_code_and_oom(served):
    assert served.docker("run", "--rm", "busybox", "sh", "-c", "echo out; echo err >&2").stdout == "out\n"
    assert served.docker("run", "--rm", "busybox", "sh", "-c", "exit 3", check=False).returncode == 3
    oom = served.docker("run", "--name", "hog", "-m", "32m", "busybox", "sh", "-c", "x=a; while true; do x=$x$x; done",
                        check=False)
    assert oom.returncode == 137
    assert served.docker("inspect", "-f", "{{.State.OOMKilled}} {{.HostConfig.Memory}}", "hog").stdout == "true 33554432\n"
    assert "hog" in served.nsbox.out("ps", "-a")  # nsbox's own store holds what docker made
    assert served.nsbox.out("ps", "-aq") != "" and served.docker("rm", "hog").returncode == 0
    assert served.nsbox.out("ps", "-aq") == ""


def test_detached_container_ps_logs_exec_stats_top_stop_rm(served):
    container_id = served.docker("run", "-d", "--name", "web", "-m", "64m", "busybox", "sh", "-c",
                                 "echo started; exec sleep 1000").stdout.strip()
    assert served.nsbox.inspect("web")["Id"] == container_id
    pid = served.nsbox.state("web")["Pid"]
    with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
        assert cmdline.read() == b"sleep\x001000\x00"  # a real process on the host, started by nsbox
    assert served.docker("ps", "--format", "{{.Names}} {{.Image}}").stdout == "web busybox\n"
    served.nsbox.wait_for(lambda: served.docker("logs", "web").stdout == "started\n", what="the log line")
    ps = served.docker("exec", "web", "ps").stdout.splitlines()
    assert [line.split()[0] for line in ps if "sleep 1000" in line] == ["1"]
    assert served.docker("exec", "web", "sh", "-c", "exit 4", check=False).returncode == 4
    stats = served.docker("stats", "--no-stream", "--format", "{{.Name}} {{.MemUsage}}", "web").stdout
    assert stats.startswith("web ") and stats.rstrip().endswith("/ 64MiB")
    assert str(pid) in served.docker("top", "web").stdout
    served.docker("stop", "-t", "1", "web")
    assert served.docker("ps", "-a", "--filter", "status=exited", "--format", "{{.Names}}").stdout == "web\n"
    assert served.docker("ps", "--format", "{{.Names}}").stdout == ""
    served.docker("rm", "web")
    assert served.nsbox.out("ps", "-aq") == ""


def test_errors_come_back_as_dockers(served):
    missing = served.docker("inspect", "nosuch", check=False)
    assert missing.returncode == 1 and "No such" in missing.stderr
    served.docker("run", "-d", "--name", "busy", "busybox", "sleep", "1000")
    conflict = served.docker("rm", "busy", check=False)
    assert conflict.returncode == 1 and "cannot remove a running container" in conflict.stderr
    served.docker("rm", "-f", "busy")


def test_docker_py_runs_containers_and_exec(served):
    docker = pytest.importorskip("docker")
    client = docker.DockerClient(base_url=f"unix://{served.socket}", version="auto")
    assert client.containers.run("busybox", ["echo", "from docker-py"], remove=True) == b"from docker-py\n"
    container = client.containers.run("busybox", ["sleep", "1000"], detach=True, name="pyweb")
    try:
        assert served.nsbox.state("pyweb")["Status"] == "running"
        code, output = container.exec_run(["sh", "-c", "echo inside; exit 5"])
        assert (code, output) == (5, b"inside\n")
        assert client.containers.get("pyweb").status == "running"
        with pytest.raises(docker.errors.NotFound):
            client.containers.get("nosuch")
    finally:
        container.remove(force=True)
    assert served.nsbox.out("ps", "-aq") == ""
    client.close()


def test_images_listing_through_the_api(served):
    lines = served.docker("images", "--format", "{{.Repository}}:{{.Tag}}").stdout.split()
    assert lines == ["busybox:latest"]
    served.docker("tag", "busybox", "copy:1")
    assert sorted(served.docker("images", "--format", "{{.Repository}}:{{.Tag}}").stdout.split()) == \
        ["busybox:latest", "copy:1"]
    served.docker("rmi", "copy:1")
    assert "copy" not in served.nsbox.out("images")



def test_docker_cp_both_ways_and_volumes(served, tmp_path):
    served.docker("run", "-d", "--name", "files", "busybox", "sleep", "1000")
    source = tmp_path / "from-host.txt"
    source.write_text("from the host\n")
    served.docker("cp", str(source), "files:/")
    assert served.docker("exec", "files", "cat", "/from-host.txt").stdout == "from the host\n"
    served.docker("exec", "files", "sh", "-c", "echo from the container > /made-inside.txt")
    served.docker("cp", "files:/made-inside.txt", str(tmp_path / "back.txt"))
    assert (tmp_path / "back.txt").read_text() == "from the container\n"
    served.docker("rm", "-f", "files")
    served.docker("volume", "create", "shared")
    assert "shared" in served.nsbox.out("volume", "ls")  # nsbox's own volume store holds it
    served.docker("run", "--rm", "-v", "shared:/data", "busybox", "sh", "-c", "echo kept > /data/f")
    assert served.docker("run", "--rm", "-v", "shared:/data", "busybox", "cat", "/data/f").stdout == "kept\n"
    served.docker("volume", "rm", "shared")
    assert "shared" not in served.nsbox.out("volume", "ls")


def test_twenty_clients_at_once_and_a_client_killed_mid_stream(served):
    import concurrent.futures
    with concurrent.futures.ThreadPoolExecutor(20) as pool:
        results = list(pool.map(lambda i: served.docker("run", "--rm", "busybox", "echo", f"client {i}",
                                                        timeout=180).stdout, range(20)))
    assert sorted(results) == sorted(f"client {i}\n" for i in range(20))
    served.docker("run", "-d", "--name", "talker", "busybox", "sh", "-c", "while true; do echo tick; sleep 0.1; done")
    server_pid = int(subprocess.run(["fuser", served.socket], capture_output=True, text=True).stdout.split()[0]) \
        if shutil.which("fuser") else None
    fds_before = len(os.listdir(f"/proc/{server_pid}/fd")) if server_pid else 0
    follower = subprocess.Popen([DOCKER, "logs", "-f", "talker"], env=served.env, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL)
    assert follower.stdout.readline() == b"tick\n"  # type: ignore[union-attr]
    follower.kill()
    follower.wait()
    served.docker("rm", "-f", "talker")
    if server_pid:  # the stream's thread noticed the dead client and let go of its connection
        served.nsbox.wait_for(lambda: len(os.listdir(f"/proc/{server_pid}/fd")) <= fds_before, timeout=30,
                              what="the server to close the dead client's connection")


def test_save_load_and_pull_push_against_a_local_registry(served, tmp_path, registries):
    registry = registries(None)
    archive = str(tmp_path / "busybox.tar")
    served.docker("save", "-o", archive, "busybox")
    served.docker("tag", "busybox", f"{registry.host}/served/busybox:v1")
    pushed = served.docker("push", f"{registry.host}/served/busybox:v1")
    assert "digest: sha256:" in pushed.stdout
    assert registry.skopeo_inspect("served/busybox:v1")["Digest"].startswith("sha256:")
    served.docker("rmi", f"{registry.host}/served/busybox:v1")
    served.docker("pull", f"{registry.host}/served/busybox:v1")
    assert f"{registry.host}/served/busybox" in served.nsbox.out("images")
    served.docker("rmi", "-f", "busybox", f"{registry.host}/served/busybox:v1")
    assert "busybox" not in served.nsbox.out("images")
    assert "Loaded image" in served.docker("load", "-i", archive).stdout
    assert served.docker("run", "--rm", "busybox", "echo", "loaded").stdout == "loaded\n"


def test_attach_and_exec_on_a_terminal(served):
    import pty
    served.docker("run", "-d", "--name", "chatty", "busybox", "sh", "-c", "sleep 1; echo one; echo two >&2")
    attached = served.docker("attach", "chatty", timeout=60)
    assert attached.stdout == "one\n" and attached.stderr == "two\n"
    served.docker("run", "-d", "--name", "term", "busybox", "sleep", "1000")
    pid, fd = pty.fork()
    if pid == 0:  # the docker CLI on a real pseudo-terminal, as a person at a shell runs it
        os.execve(DOCKER, [DOCKER, "exec", "-it", "term", "sh", "-c", "tty; echo exit-${TERM:-none}"], served.env)
    output = b""
    while True:
        try:
            chunk = os.read(fd, 1024)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, output
    assert b"/dev/pts/" in output  # the process inside had a terminal
    served.docker("rm", "-f", "term", "chatty")


def _certificates(directory) -> dict[str, str]:
    """A CA, a server certificate for 127.0.0.1 and a client certificate, made by openssl."""
    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=directory)
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca-key.pem", "-out", "ca.pem", "-days", "1",
        "-subj", "/CN=nsbox test CA")
    for name, extension in (("server", "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth"),
                            ("client", "extendedKeyUsage=clientAuth")):
        (directory / f"{name}.ext").write_text(extension + "\n")
        run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}-key.pem", "-out", f"{name}.csr",
            "-subj", f"/CN={name}")
        run("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca-key.pem", "-CAcreateserial",
            "-out", f"{name}.pem", "-days", "1", "-extfile", f"{name}.ext")
    return {name: str(directory / f"{name}.pem") for name in ("ca", "server", "client", "server-key", "client-key")}


def test_tcp_only_with_tls_client_certificates(nsbox, tmp_path):
    refused = nsbox("serve", "-H", "tcp://127.0.0.1:2399", check=False)
    assert refused.returncode == 125 and "--tlsverify" in refused.stderr
    certs = _certificates(tmp_path)
    import socket
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(nsbox.command("serve", "-H", f"tcp://127.0.0.1:{port}", "--tlsverify", "--tlscacert",
                                            certs["ca"], "--tlscert", certs["server"], "--tlskey",
                                            certs["server-key"]), stdin=subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        env = dict(os.environ, DOCKER_CONFIG=str(tmp_path / "docker-config"))
        env.pop("DOCKER_HOST", None)
        base = [DOCKER, "-H", f"tcp://127.0.0.1:{port}", "--tlsverify", "--tlscacert", certs["ca"]]
        nsbox.wait_for(lambda: subprocess.run([*base, "--tlscert", certs["client"], "--tlskey", certs["client-key"],
                                               "version"], env=env, capture_output=True).returncode == 0,
                       timeout=30, what="the TLS server")
        ran = subprocess.run([*base, "--tlscert", certs["client"], "--tlskey", certs["client-key"], "run", "--rm",
                              "busybox", "echo", "over tls"], env=env, capture_output=True, text=True, timeout=60)
        assert ran.stdout == "over tls\n", ran.stderr
        anonymous = subprocess.run([*base, "version"], env=env, capture_output=True, text=True, timeout=30)
        assert anonymous.returncode != 0 and "certificate" in anonymous.stderr, anonymous.stderr  # no client cert
    finally:
        server.terminate()
        assert server.wait(timeout=30) == 0


def test_sigterm_stops_serving_and_leaves_containers_running(served):
    served.docker("run", "-d", "--name", "survivor", "busybox", "sleep", "1000")
    server_pid = int(subprocess.run(["fuser", served.socket], capture_output=True, text=True).stdout.split()[0])
    os.kill(server_pid, 15)
    served.nsbox.wait_for(lambda: not os.path.exists(served.socket), what="the server to stop")
    assert served.nsbox.state("survivor")["Status"] == "running"  # its own monitor keeps it
    served.nsbox("rm", "-f", "survivor")


def test_network_create_and_two_containers_reach_each_other_by_name(served):
    served.docker("network", "create", "appnet")
    assert "appnet" in served.nsbox.out("network", "ls")  # a CNI config list of nsbox's
    try:
        served.docker("run", "-d", "--name", "server", "--network", "appnet", "--network-alias", "srv",
                      "--dns", "127.0.0.1", "busybox", "sleep", "1000")
        address = served.nsbox.inspect("server")["NetworkSettings"]["Networks"]["appnet"]["IPAddress"]
        pinged = served.docker("run", "--rm", "--network", "appnet", "--dns", "127.0.0.1", "busybox", "sh", "-c",
                               "ping -c1 -W2 server && ping -c1 -W2 srv")
        assert pinged.stdout.count(f"64 bytes from {address}") == 2
        members = served.docker("network", "inspect", "appnet", "-f", "{{range $k, $v := .Containers}}{{$k}}{{end}}")
        assert members.stdout.strip() == "server"
    finally:
        served.docker("rm", "-f", "server", check=False)
        served.docker("network", "rm", "appnet")
    assert "appnet" not in served.nsbox.out("network", "ls")


COMPOSE_FILE = """\
version: "3"
services:
  server:
    image: busybox
    command: ["sh", "-c", "echo hello-from-server > /www/index.html; httpd -f -p 8080 -h /www"]
    dns: 127.0.0.1
    volumes: ["www:/www"]
  client:
    image: busybox
    command: ["sh", "-c", "for i in $$(seq 20); do wget -q -O - http://server:8080/ && exit 0; sleep 0.5; done; exit 1"]
    dns: 127.0.0.1
    depends_on: [server]
volumes:
  www: {}
"""


@pytest.mark.skipif(shutil.which("docker-compose") is None, reason="docker-compose is not installed")
def test_compose_brings_up_two_services_that_reach_each_other_by_name(served, tmp_path):
    project = tmp_path / "proj"
    project.mkdir()
    (project / "docker-compose.yml").write_text(COMPOSE_FILE)
    env = dict(served.env)

    def compose(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(["docker-compose", *args], cwd=project, env=env, capture_output=True, text=True,
                              timeout=180, stdin=subprocess.DEVNULL)
    try:
        up = compose("up", "--abort-on-container-exit", "--exit-code-from", "client")
        assert up.returncode == 0, up.stdout + up.stderr
        assert "hello-from-server" in up.stdout
        assert "proj_default" in served.nsbox.out("network", "ls")
    finally:
        down = compose("down", "-v")
    assert down.returncode == 0, down.stderr
    assert served.nsbox.out("ps", "-aq") == "" and "proj_default" not in served.nsbox.out("network", "ls")


@pytest.mark.skipif(not os.path.exists("/usr/bin/docker"), reason="Debian's docker.io client is not installed")
def test_debians_docker_20_client_too(served):
    """The docker.io client (API 1.41) negotiates down to the same server."""
    old = [*served.env.items()]
    ran = subprocess.run(["/usr/bin/docker", "run", "--rm", "busybox", "sh", "-c", "echo old client; exit 6"],
                         env=dict(old), capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert (ran.returncode, ran.stdout) == (6, "old client\n"), ran.stderr
    version = subprocess.run(["/usr/bin/docker", "version", "--format", "{{.Client.APIVersion}}"], env=dict(old),
                             capture_output=True, text=True, timeout=60).stdout.strip()
    assert version == "1.41"
