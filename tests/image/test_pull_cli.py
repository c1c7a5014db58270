"""`nsbox pull`'s command line: its flags and --help come from the image commands'
declarations (nsbox.cli.image), as every command's do."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

NSBOX = os.path.join(os.path.dirname(sys.executable), "nsbox")


@pytest.mark.needs_no_root
def test_usage_errors_and_help(tmp_path):
    root = str(tmp_path / "root")
    wrong = subprocess.run([NSBOX, "--root", root, "pull", "--bogus", "busybox"], capture_output=True, text=True)
    assert wrong.returncode == 125
    assert wrong.stderr == "nsbox: unknown flag: --bogus\nSee 'nsbox pull --help'.\n"
    missing = subprocess.run([NSBOX, "--root", root, "pull"], capture_output=True, text=True)
    assert missing.returncode == 125 and '"nsbox pull" requires exactly 1 argument (IMAGE), got 0' in missing.stderr
    two = subprocess.run([NSBOX, "--root", root, "pull", "a", "b"], capture_output=True, text=True)
    assert two.returncode == 125 and "requires exactly 1 argument (IMAGE), got 2" in two.stderr
    shown = subprocess.run([NSBOX, "--root", root, "pull", "--help"], capture_output=True, text=True)
    assert shown.returncode == 0 and shown.stdout.startswith("usage: nsbox pull [OPTIONS] IMAGE\n")
    assert "--insecure-registry HOST[:PORT]" in shown.stdout and "--platform OS/ARCH[/VARIANT]" in shown.stdout
    assert not os.path.exists(root)


@pytest.mark.needs_no_root
def test_a_bad_platform_is_a_clear_error(tmp_path):
    result = subprocess.run([NSBOX, "--root", str(tmp_path), "pull", "--platform=linux", "busybox"],
                            capture_output=True, text=True)
    assert result.returncode == 125
    assert "invalid platform 'linux'" in result.stderr and "os/architecture" in result.stderr
