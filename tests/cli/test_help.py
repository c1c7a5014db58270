"""Every command's --help is made from the declarations its parser reads (nsbox.flags.Command):
each flag the command takes is in its help, and nothing is written by hand beside it."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from nsbox.cli.main import COMMANDS
from nsbox.runtime import cli as runtime_cli

pytestmark = pytest.mark.needs_no_root
BIN = os.path.dirname(sys.executable)


def help_of(*argv: str) -> str:
    shown = subprocess.run([os.path.join(BIN, argv[0]), *argv[1:], "--help"], capture_output=True, text=True)
    assert shown.returncode == 0 and shown.stderr == "", (argv, shown.stderr)
    return shown.stdout


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_each_nsbox_command_prints_its_generated_help(name, tmp_path):
    shown = help_of("nsbox", "--root", str(tmp_path), name)
    assert shown.startswith("usage: nsbox"), shown
    module = __import__(f"nsbox.cli.{COMMANDS[name]}", fromlist=["main"])
    command = getattr(module, "COMMAND", None)
    if command is not None:  # a command declared once at module level: its help is exactly the generated one
        assert shown == command.help() + "\n"
        for declared in command.flags:
            assert all(spelling in shown for spelling in declared.names) and declared.help in shown, declared.names
    assert not os.listdir(tmp_path)  # --help makes nothing


@pytest.mark.parametrize("name", runtime_cli.COMMANDS)
def test_each_runtime_command_prints_its_generated_help(name):
    module = __import__(f"nsbox.runtime.commands.{name}", fromlist=["COMMAND"])
    shown = help_of("nsbox-runtime", name)
    assert shown == module.COMMAND.help() + "\n"
    for declared in module.COMMAND.flags:
        assert all(spelling in shown for spelling in declared.names) and declared.help in shown, declared.names
