"""`run` and `create` pull an image that is not in the store, as Docker's do (--pull
missing|always|never), from a real registry on loopback."""
from __future__ import annotations

import os

from tests.engine.conftest import Nsbox, busybox_tar  # noqa: F401 (fixture used by name)


def test_run_pulls_a_missing_image_and_pull_policies(registries, busybox_tar, tmp_path):  # noqa: F811
    registry = registries(None)
    publisher = Nsbox(str(tmp_path / "publisher"))
    publisher("import", busybox_tar, "busybox")
    reference = f"{registry.host}/test/runpull:v1"
    publisher("tag", "busybox", reference)
    publisher("push", reference)

    user = Nsbox(str(tmp_path / "user"))
    never = user("run", "--rm", "--pull", "never", reference, "true", check=False)
    assert never.returncode == 125 and "not in the store" in never.stderr
    assert user.out("images", "-q") == ""

    ran = user("run", "--rm", reference, "echo", "ran after the pull")
    assert ran.stdout == "ran after the pull\n"  # the pull's report is on stderr, the program's output alone here
    assert f"Unable to find image '{reference}' locally" in ran.stderr and "Digest: sha256:" in ran.stderr
    image_id = user.out("images", "-q", "--no-trunc").strip()
    assert image_id == publisher.out("images", "-q", "--no-trunc").strip()

    again = user("run", "--rm", reference, "true")  # present now: no pull
    assert "Unable to find" not in again.stderr and "Digest" not in again.stderr
    always = user("run", "--rm", "--pull", "always", reference, "true")
    assert "Digest: sha256:" in always.stderr and "Unable to find" not in always.stderr

    created = user("create", "--name", "made", f"{registry.host}/test/runpull:v1", "true")
    assert len(created.stdout.strip()) == 64
    user("rm", "made")
    bad = user("run", "--rm", "--pull", "sometimes", reference, "true", check=False)
    assert bad.returncode == 125 and "--pull" in bad.stderr
    assert not os.listdir(os.path.join(user.root, "containers"))
