"""The same commands through Docker (dockerd from Debian's docker.io, private state) and
through nsbox, compared as a Docker user's scripts would see them: exit codes, `inspect`
keys and values, --format output, table headings.

That nsbox did its own work is plain: the nsbox side has no daemon, and its containers are
in its own --root, which Docker cannot see (each side's `ps` lists only its own)."""
from __future__ import annotations

import json
import re

import pytest

from tests.interop.daemons import docker_reported_oom


def both(side_by_side, *args: str, timeout: float = 60):
    docker, nsbox = side_by_side
    return docker(*args, check=False, timeout=timeout), nsbox(*args, check=False, timeout=timeout)


@pytest.fixture
def pair(side_by_side):
    """side_by_side, with every container either side made removed after the test."""
    yield side_by_side
    docker, nsbox = side_by_side
    for run in (docker, nsbox):
        ids = run("ps", "-aq", "--no-trunc", check=False).stdout.split()
        if ids:
            run("rm", "-f", *ids, check=False)


def test_each_side_runs_its_own_containers(pair):
    docker, nsbox = pair
    both(pair, "run", "--name", "mine", "--network", "none", "busybox", "true")
    assert docker("ps", "-aq", "--no-trunc").stdout.split() == [json.loads(docker("inspect", "mine").stdout)[0]["Id"]]
    assert nsbox("ps", "-aq", "--no-trunc").stdout.split() == [nsbox.inspect("mine")["Id"]]
    assert nsbox.inspect("mine")["Id"] != json.loads(docker("inspect", "mine").stdout)[0]["Id"]


EXIT_CASES = [
    ("run", "--rm", "--network", "none", "busybox", "true"),
    ("run", "--rm", "--network", "none", "busybox", "sh", "-c", "exit 3"),
    ("run", "--rm", "--network", "none", "busybox", "/no/such/program"),
    ("run", "--rm", "--network", "none", "busybox", "/etc"),
    ("run", "--rm", "--network", "none", "--no-such-flag", "busybox", "true"),
    ("run", "--rm", "--network", "none", "-w", "/made/by/run", "busybox", "pwd"),
    ("run", "--rm", "--network", "none", "-it", "busybox", "true"),  # stdin is no terminal here: Docker refuses
]


@pytest.mark.parametrize("args", EXIT_CASES, ids=lambda args: " ".join(args[4:]))
def test_exit_codes_and_output_of_run(pair, args):
    docker_result, nsbox_result = both(pair, *args)
    assert nsbox_result.returncode == docker_result.returncode, (docker_result.stderr, nsbox_result.stderr)
    assert nsbox_result.stdout == docker_result.stdout


def run_both(pair, *args: str) -> tuple[dict, dict]:
    docker_result, nsbox_result = both(pair, "run", "--network", "none", *args)
    assert nsbox_result.returncode == docker_result.returncode, (docker_result.stderr, nsbox_result.stderr)
    docker, nsbox = pair
    name = args[args.index("--name") + 1]
    return json.loads(docker("inspect", name).stdout)[0], nsbox.inspect(name)


def missing_keys(docker_value, nsbox_value, path: str = "") -> list[str]:
    """Keys Docker shows that nsbox does not, at every level where both sides hold an object."""
    if not isinstance(docker_value, dict) or not isinstance(nsbox_value, dict):
        return []
    missing = [f"{path}.{key}" for key in docker_value if key not in nsbox_value]
    for key in docker_value:
        if key in nsbox_value and key not in ("NetworkSettings", "GraphDriver"):  # network: issue 9; driver data
            missing += missing_keys(docker_value[key], nsbox_value[key], f"{path}.{key}")
    return missing


def test_container_inspect_keys_and_values(pair, tmp_path):
    docker_view, nsbox_view = run_both(pair, "--name", "shape", "-m", "64m", "--cpus", "0.5", "-e", "X=1",
                                       "-l", "a=1", "-v", f"{tmp_path}:/mnt", "-w", "/work", "busybox",
                                       "sh", "-c", "exit 3")
    assert missing_keys(docker_view, nsbox_view) == []
    for section, key in [("HostConfig", "Memory"), ("HostConfig", "NanoCpus"), ("HostConfig", "MemorySwap"),
                         ("HostConfig", "Binds"), ("State", "ExitCode"), ("State", "OOMKilled"),
                         ("State", "Status"), ("Config", "Cmd"), ("Config", "Env"), ("Config", "WorkingDir"),
                         ("Config", "Labels"), ("Config", "Entrypoint"), ("Config", "AttachStdout"),
                         ("Config", "OpenStdin")]:
        assert nsbox_view[section][key] == docker_view[section][key], f"{section}.{key}"
    assert nsbox_view["Name"] == docker_view["Name"] == "/shape"
    assert nsbox_view["Image"] == docker_view["Image"]  # the same image, saved by nsbox, loaded by docker


def test_defaults_that_docker_writes(pair):
    docker_view, nsbox_view = run_both(pair, "-d", "--name", "defaults", "busybox", "sleep", "60")
    for section, key in [("Config", "WorkingDir"), ("Config", "AttachStdout"), ("Config", "StdinOnce"),
                         ("HostConfig", "MemorySwap"), ("HostConfig", "Binds"), ("State", "FinishedAt"),
                         ("State", "Running")]:
        assert nsbox_view[section][key] == docker_view[section][key], f"{section}.{key}"


def test_oom_kill_side_by_side(pair):
    docker_view, nsbox_view = run_both(pair, "--name", "hog", "-m", "16m", "busybox", "tail", "/dev/zero")
    assert nsbox_view["State"]["OOMKilled"] is True
    assert nsbox_view["State"]["ExitCode"] == docker_view["State"]["ExitCode"] == 137
    assert docker_view["State"]["OOMKilled"] or docker_reported_oom(pair[0], docker_view), \
        "dockerd saw no OOM kill: the comparison compared nothing"


def test_image_inspect_keys_and_values(pair):
    docker, nsbox = pair
    docker_view = json.loads(docker("image", "inspect", "busybox").stdout)[0]
    nsbox_view = json.loads(nsbox.out("image", "inspect", "busybox"))[0]
    assert missing_keys(docker_view, nsbox_view) == []
    for key in ("Id", "RepoTags", "Created", "Architecture", "Os", "RootFS", "Config"):
        assert nsbox_view[key] == docker_view[key], key
    # `inspect` of a name that is no container falls back to the image, as Docker's does
    docker_result, nsbox_result = both(pair, "inspect", "-f", "{{.Id}} {{.Os}}", "busybox")
    assert nsbox_result.stdout == docker_result.stdout and nsbox_result.returncode == 0


INSPECT_TEMPLATES = [
    "{{.State.ExitCode}}", "{{.State.Status}} {{.State.Running}} {{.State.OOMKilled}}",
    "{{json .Config.Cmd}}", "{{.Config.Cmd}}", "{{join .Config.Cmd \",\"}}", "{{.Config.Labels}}",
    "{{json .Config.Labels}}", "{{index .Config.Labels \"a\"}}", "{{range .Config.Env}}{{println .}}{{end}}",
    "{{.HostConfig.Memory}} {{.HostConfig.NanoCpus}} {{.HostConfig.MemorySwap}}", "{{.Name}}",
    "{{len .Config.Env}}", "{{upper .State.Status}}", "{{if .State.Running}}up{{else}}down{{end}}",
    "{{printf \"%s=%d\" .Name .State.ExitCode}}", "{{with .Config}}{{.WorkingDir}}{{end}}",
    "{{range $k, $v := .Config.Labels}}{{$k}}:{{$v}} {{end}}", "{{.Config.Image}}", "{{.Path}} {{.Args}}",
    "{{.Foo}}", "{{.State.Nope}}",
]


def test_inspect_format_templates(pair):
    run_both(pair, "--name", "tpl", "-m", "64m", "-l", "a=1", "-l", "b=two", "busybox", "sh", "-c", "exit 3")
    for template in INSPECT_TEMPLATES:
        docker_result, nsbox_result = both(pair, "inspect", "-f", template, "tpl")
        assert (nsbox_result.returncode, nsbox_result.stdout.strip()) == \
            (docker_result.returncode, docker_result.stdout.strip()), template
        if docker_result.returncode:
            assert docker_result.stderr.strip().splitlines()[-1] in nsbox_result.stderr, template


PS_TEMPLATES = [
    "{{.Names}} {{.Image}} {{.Command}} {{.State}}", "{{.Labels}}", "{{.Label \"a\"}}", "{{json .Names}}",
    "table {{.Names}}\t{{.Image}}\t{{.Command}}", "table {{.Names}}\\t{{.State}}", "{{.Mounts}}",
    "{{upper .Names}}", "{{.Foo}}",
]


def test_ps_format_templates_and_headings(pair):
    docker_result, nsbox_result = both(pair, "ps")
    assert nsbox_result.stdout == docker_result.stdout  # no containers: the heading line alone, same widths
    run_both(pair, "-d", "--name", "ps-one", "-l", "a=1", "-l", "b=2", "busybox", "sh", "-c", "sleep 60")
    run_both(pair, "--name", "ps-two", "busybox", "echo", "a b")
    for template in PS_TEMPLATES:
        docker_result, nsbox_result = both(pair, "ps", "-a", "--format", template)
        assert (nsbox_result.returncode, nsbox_result.stdout) == (docker_result.returncode, docker_result.stdout), \
            template
    docker_result, nsbox_result = both(pair, "ps", "-a")
    assert nsbox_result.stdout.splitlines()[0].split() == docker_result.stdout.splitlines()[0].split()
    for args in (("-l", "--format", "{{.Names}}"), ("-n", "1", "-q"), ("-a", "-q", "--filter", "name=ps-one")):
        docker_result, nsbox_result = both(pair, "ps", *args)
        assert len(nsbox_result.stdout.splitlines()) == len(docker_result.stdout.splitlines()) == 1, args
        if "--format" in args:
            assert nsbox_result.stdout == docker_result.stdout


IMAGES_TEMPLATES = [
    "{{.Repository}}:{{.Tag}}", "{{.ID}}", "table {{.Repository}}\t{{.Tag}}\t{{.ID}}", "{{json .Repository}}",
    "{{.CreatedAt}}", "{{.Containers}} {{.SharedSize}}", "table {{.Repository}}\t{{.Tag}}\t{{.Containers}}",
]


def test_images_format_templates_and_headings(pair):
    for template in IMAGES_TEMPLATES:
        docker_result, nsbox_result = both(pair, "images", "--format", template)
        assert (nsbox_result.returncode, nsbox_result.stdout) == (docker_result.returncode, docker_result.stdout), \
            template
    docker_result, nsbox_result = both(pair, "images")
    assert nsbox_result.stdout.splitlines()[0].split() == docker_result.stdout.splitlines()[0].split()


NO_SUCH = [("rm", "-f", "nosuch"), ("rm", "nosuch"), ("stop", "nosuch"), ("kill", "nosuch"), ("logs", "nosuch"),
           ("exec", "nosuch", "true"), ("inspect", "nosuch"), ("start", "nosuch"), ("wait", "nosuch"),
           ("inspect", "--type", "container", "busybox"), ("pause", "nosuch"), ("restart", "nosuch")]


@pytest.mark.parametrize("args", NO_SUCH, ids=" ".join)
def test_no_such_container(pair, args):
    docker_result, nsbox_result = both(pair, *args)
    assert nsbox_result.returncode == docker_result.returncode, (docker_result.stderr, nsbox_result.stderr)
    wording = re.search(r"No such \w+: \w+", docker_result.stderr)
    assert wording is None or wording.group() in nsbox_result.stderr, (docker_result.stderr, nsbox_result.stderr)


def test_management_commands_and_volumes(pair):
    docker, nsbox = pair
    run_both(pair, "-d", "--name", "mgmt", "-v", "vol-used:/data", "busybox", "sleep", "60")
    for args in (("container", "ls", "--format", "{{.Names}} {{.State}}"), ("container", "ls", "-aq", "--no-trunc"),
                 ("container", "inspect", "-f", "{{.Name}} {{.Config.Cmd}}", "mgmt"),
                 ("container", "inspect", "busybox"), ("image", "ls", "--format", "{{.Repository}}:{{.Tag}}"),
                 ("image", "inspect", "-f", "{{.Os}}", "busybox"), ("image", "rm", "nosuch"),
                 ("volume", "create", "--label", "team=a", "vol-made"), ("volume", "ls"),
                 ("volume", "ls", "-q", "--filter", "dangling=true"),
                 ("volume", "ls", "--format", "{{.Name}} {{.Driver}} {{.Labels}}"),
                 ("volume", "inspect", "-f", "{{.Name}} {{.Driver}} {{.Scope}} {{.Labels}}", "vol-made"),
                 ("volume", "inspect", "nosuch"), ("volume", "rm", "vol-used"), ("volume", "rm", "nosuch"),
                 ("volume", "rm", "-f", "nosuch"), ("volume", "rm", "vol-made")):
        docker_result, nsbox_result = both(pair, *args)
        if "ls" not in args or "--no-trunc" not in args:  # container IDs differ, their count does not
            assert nsbox_result.stdout == docker_result.stdout, args
        assert nsbox_result.returncode == docker_result.returncode, (args, docker_result.stderr, nsbox_result.stderr)
    docker_view = json.loads(docker("volume", "inspect", "vol-used").stdout)[0]
    nsbox_view = json.loads(nsbox.out("volume", "inspect", "vol-used"))[0]
    assert list(nsbox_view) == list(docker_view)
    assert nsbox_view["Mountpoint"].startswith(nsbox.root)  # nsbox's own store holds it, not Docker's
    for run in (docker, nsbox):
        run("rm", "-f", "mgmt")
        run("volume", "rm", "vol-used")


def test_diff_commit_history(pair):
    docker, nsbox = pair
    run_both(pair, "--name", "untouched", "busybox", "true")
    docker_result, nsbox_result = both(pair, "diff", "untouched")  # the engine's own mount points are no change
    assert nsbox_result.stdout == docker_result.stdout == ""
    script = "echo new > /newfile; rm /etc/passwd; mkdir -p /tmp/x; echo y > /etc/extra"
    run_both(pair, "--name", "changer", "busybox", "sh", "-c", script)
    docker_result, nsbox_result = both(pair, "diff", "changer")  # (dockerd lists them in no fixed order)
    assert sorted(nsbox_result.stdout.splitlines()) == sorted(docker_result.stdout.splitlines())
    assert nsbox_result.returncode == 0 and "D /etc/passwd" in nsbox_result.stdout
    for run in (docker, nsbox):
        run("commit", "-m", "my change", "-c", 'CMD ["cat", "/newfile"]', "changer", "committed:v1")
    docker_result, nsbox_result = both(pair, "run", "--rm", "--network", "none", "committed:v1")
    assert nsbox_result.stdout == docker_result.stdout == "new\n"
    docker_result, nsbox_result = both(pair, "run", "--rm", "--network", "none", "committed:v1", "ls", "/etc/passwd")
    assert nsbox_result.returncode == docker_result.returncode == 1
    template = "{{.CreatedBy}}|{{.Comment}}"
    docker_result, nsbox_result = both(pair, "history", "--no-trunc", "--format", template, "committed:v1")
    assert nsbox_result.stdout == docker_result.stdout
    docker_result, nsbox_result = both(pair, "history", "committed:v1")
    assert nsbox_result.stdout.splitlines()[0].split() == docker_result.stdout.splitlines()[0].split()
    for run in (docker, nsbox):
        run("rmi", "committed:v1")


def test_info_template(pair):
    docker_result, nsbox_result = both(pair, "info", "--format", "{{.OSType}} {{.Architecture}} {{.NCPU}}")
    assert nsbox_result.stdout == docker_result.stdout and nsbox_result.returncode == 0


def test_system_df_shape(pair):
    docker_result, nsbox_result = both(pair, "system", "df", "--format", "{{.Type}}")
    assert nsbox_result.stdout == docker_result.stdout  # Images, Containers, Local Volumes, Build Cache
    docker_result, nsbox_result = both(pair, "system", "df")
    assert nsbox_result.stdout.splitlines()[0] == docker_result.stdout.splitlines()[0]
    docker_result, nsbox_result = both(pair, "system", "df", "-v")
    headings = [line for line in docker_result.stdout.splitlines() if line.endswith("usage:")]
    assert headings == [line for line in nsbox_result.stdout.splitlines() if line.endswith("usage:")]
