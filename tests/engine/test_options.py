"""Docker's flags as the engine reads them, and the OCI config it writes (no containers run)."""
from __future__ import annotations

import re

import pytest

from nsbox.flags import Command, flag, parse
from nsbox.cli.run_flags import RUN, RUN_FLAGS, run_options
from nsbox.engine.runconfig import make_record, update_host_config
from nsbox.engine.spec import DOCKER_CAPABILITIES, make_spec
from nsbox.engine.quantities import format_size, parse_size
from nsbox.errors import ConfigError, UsageError

pytestmark = pytest.mark.needs_no_root  # pure logic: CI runs these as an unprivileged user too


def test_flag_spellings():
    options = run_options(["-dit", "--name=web", "-e", "A=1", "-eB=2", "-m256m", "--rm=false", "busybox",
                           "sh", "-c", "echo -d"])
    assert options["detach"] and options["interactive"] and options["tty"]
    assert options["name"] == "web" and options["env"] == ["A=1", "B=2"] and options["memory"] == "256m"
    assert options["rm"] is False
    assert options["image"] == "busybox" and options["command"] == ["sh", "-c", "echo -d"]
    with pytest.raises(UsageError, match="unknown flag: --nope"):
        run_options(["--nope", "busybox"])
    with pytest.raises(UsageError, match="flag needs an argument: --name"):
        run_options(["--name"])
    command = Command("test [OPTIONS]", "a test", flag("-a --all", "all"), flag("-q", "quiet", key="quiet"))
    values, rest = parse(["-a", "x", "-q"], command, stop_at_positional=False)
    assert values == {"all": True, "quiet": True} and rest == ["x"]


def test_every_run_flag_parses_to_its_option_and_has_its_generated_help_line(capsys):
    with pytest.raises(SystemExit) as stop:
        run_options(["--help"])
    shown = capsys.readouterr().out
    assert stop.value.code == 0 and shown == RUN.help() + "\n"  # what `nsbox run --help` prints
    for declared in RUN_FLAGS:
        for name in declared.names:
            options = run_options([name, "x", "busybox"] if declared.value else [name, "busybox"])
            assert declared.key in options, f"{name} does not set {declared.key}"
            assert options.get("image", "busybox") == "busybox", f"{name} took the wrong number of arguments"
        # its line in --help: every spelling, the value's name, then (on it or the next line) what it does
        lines = shown.split("\nOptions:\n", 1)[1].splitlines()
        found = [index for index, line in enumerate(lines) if all(
            re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", line) for word in (*declared.names, declared.value)
            if word)]
        assert found, f"{declared.names[0]} is missing from run --help"
        assert declared.help and declared.help in " ".join(lines[found[0]:found[0] + 2]), declared.names
    assert run_options(["-h", "box", "busybox"])["hostname"] == "box"  # -h is --hostname for run, not help


def test_sizes():
    assert parse_size("256m", "-m") == 256 << 20
    assert parse_size("1.5G", "-m") == 3 << 29
    assert parse_size("512kb", "-m") == 512 << 10
    assert parse_size("100", "-m") == 100
    with pytest.raises(ConfigError, match="--memory"):
        parse_size("lots", "--memory")
    assert format_size(256 << 20) == "256MiB" and format_size(1536) == "1.5KiB"


def record(*argv, image=None):
    options = run_options(list(argv))
    made = make_record(options, image, "/nonexistent-root")
    made.update(Id="f" * 64, Name="test")
    return made


def test_image_config_and_options_make_the_process():
    image = {"id": "sha256:x", "config": {"Entrypoint": ["/entry"], "Cmd": ["default"], "Env": ["IMG=1", "PATH=/img"],
                                          "WorkingDir": "/app", "User": "", "StopSignal": "SIGQUIT"}}
    made = record("-e", "A=1", "busybox", image=image)
    assert made["Config"]["Entrypoint"] == ["/entry"] and made["Config"]["Cmd"] == ["default"]
    assert "IMG=1" in made["Config"]["Env"] and "PATH=/img" in made["Config"]["Env"] and "A=1" in made["Config"]["Env"]
    assert made["Config"]["StopSignal"] == "SIGQUIT" and made["Config"]["WorkingDir"] == "/app"
    overridden = record("--entrypoint", "/other", "busybox", "arg", image=image)
    assert overridden["Config"]["Entrypoint"] == ["/other"] and overridden["Config"]["Cmd"] == ["arg"]
    with pytest.raises(ConfigError, match="COMMAND"):
        record("busybox", image={"id": "x", "config": {}})


def test_spec_confinement_and_resources(tmp_path):
    made = record("-m", "256m", "--cpus", "1.5", "--pids-limit", "9", "--cap-drop", "NET_RAW", "--read-only",
                  "--tmpfs", "/run:size=1m", "--ulimit", "nofile=10:20", "busybox", "true")
    spec = make_spec(made, str(tmp_path), lambda kind, mode: "/proc/1/ns/" + kind)
    # Docker's default memory+swap with -m alone is twice the memory (where swap can be limited)
    assert spec["linux"]["resources"]["memory"] == {"limit": 256 << 20, "swap": 512 << 20}
    assert spec["linux"]["resources"]["cpu"] == {"period": 100000, "quota": 150000}
    assert spec["linux"]["resources"]["pids"] == {"limit": 9}
    caps = spec["process"]["capabilities"]["bounding"]
    assert "CAP_NET_RAW" not in caps and set(caps) == set(DOCKER_CAPABILITIES) - {"CAP_NET_RAW"}
    assert spec["root"]["readonly"] is True
    assert "/proc/kcore" in spec["linux"]["maskedPaths"] and "/proc/sys" in spec["linux"]["readonlyPaths"]
    assert spec["linux"]["resources"]["devices"][0] == {"allow": False, "access": "rwm"}
    assert {"type": "network"} in spec["linux"]["namespaces"]
    assert spec["linux"]["cgroupsPath"].endswith("/" + "f" * 64)
    assert spec["process"]["rlimits"] == [{"type": "RLIMIT_NOFILE", "soft": 10, "hard": 20}]
    assert any(m["destination"] == "/run" and m["type"] == "tmpfs" for m in spec["mounts"])
    assert spec["hostname"] == "f" * 12


def test_update_validates_like_run():
    made = record("-m", "64m", "busybox", "true")
    host = update_host_config(made["HostConfig"], {"memory": "128m", "cpus": "1"})
    assert host["Memory"] == 128 << 20 and host["NanoCpus"] == 1_000_000_000
    with pytest.raises(ConfigError, match="--memory"):
        update_host_config(made["HostConfig"], {"memory": "1k"})
