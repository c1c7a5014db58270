"""`nsbox pull`'s command line, read by hand for speed: what it takes plainly it takes as
argparse would; everything else (help, unknown or abbreviated flags, no image) is argparse's."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from nsbox.cli.pull import parse

NSBOX = os.path.join(os.path.dirname(sys.executable), "nsbox")


@pytest.mark.parametrize("argv, expected", [
    (["busybox"], ("busybox", None, ())),
    (["--platform", "linux/arm64", "busybox"], ("busybox", "linux/arm64", ())),
    (["busybox", "--platform=linux/arm/v7"], ("busybox", "linux/arm/v7", ())),
    (["--platform", "linux/arm64", "--platform", "linux/s390x", "x"], ("x", "linux/s390x", ())),
    (["--insecure-registry", "a:5000", "--insecure-registry=b", "b/x:1"], ("b/x:1", None, ("a:5000", "b"))),
])
def test_plain_command_lines_are_read_as_argparse_reads_them(argv, expected):
    assert parse(argv) == expected


@pytest.mark.parametrize("argv", [
    [], ["-h"], ["--help", "busybox"], ["--plat", "linux/arm64", "busybox"], ["--platform"],
    ["--platform", "--insecure-registry", "x"], ["a", "b"], ["--", "busybox"], ["--quiet", "busybox"],
])
def test_anything_else_is_left_to_argparse(argv):
    assert parse(argv) is None


@pytest.mark.needs_no_root
def test_usage_errors_and_help_come_from_argparse(tmp_path):
    root = str(tmp_path / "root")
    wrong = subprocess.run([NSBOX, "--root", root, "pull", "--bogus", "busybox"], capture_output=True, text=True)
    assert wrong.returncode == 125
    assert "usage: nsbox pull" in wrong.stderr and "unrecognized arguments: --bogus" in wrong.stderr
    missing = subprocess.run([NSBOX, "--root", root, "pull"], capture_output=True, text=True)
    assert missing.returncode == 125 and "required: image" in missing.stderr
    shown = subprocess.run([NSBOX, "--root", root, "pull", "--help"], capture_output=True, text=True)
    assert shown.returncode == 0 and "--insecure-registry" in shown.stdout
    assert not os.path.exists(root)


@pytest.mark.needs_no_root
def test_a_bad_platform_is_a_clear_error(tmp_path):
    result = subprocess.run([NSBOX, "--root", str(tmp_path), "pull", "--platform=linux", "busybox"],
                            capture_output=True, text=True)
    assert result.returncode == 125
    assert "invalid platform 'linux'" in result.stderr and "os/architecture" in result.stderr
