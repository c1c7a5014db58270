"""The image commands: `nsbox image SUBCOMMAND` and their top-level aliases
(pull, push, images, rmi, tag, load, save, import, login, logout)."""
from __future__ import annotations

import os
import sys

from nsbox.errors import ConfigError, ImageError, NsboxError, UsageError
from nsbox.flags import Command, flag, parse

TYPE_CHECKING = False  # typing costs ~12 ms to import: only the type checker reads this
if TYPE_CHECKING:
    from collections.abc import Callable

INSECURE = flag("--insecure-registry HOST[:PORT]...",
                "talk plain HTTP to this registry (loopback registries always are; to keep the setting, "
                'list it in ROOT/registries.json as {"insecure-registries": ["host:port"]})')


def _insecure(options: dict) -> tuple[str, ...]:
    return tuple(options.get("insecure_registry") or ())


def cmd_pull(options: dict, operands: list[str], root: str) -> int:
    from nsbox.cli.pull import pull_image
    return pull_image(operands[0], options.get("platform"), _insecure(options), root)


def cmd_push(options: dict, operands: list[str], root: str) -> int:
    import contextlib

    from nsbox.image.progress import for_terminal
    from nsbox.image.push import push
    progress = for_terminal(f"Pushing {operands[0]}")
    with progress or contextlib.nullcontext():
        digest = push(root, operands[0], insecure_registries=_insecure(options), progress=progress)
    print(f"Digest: {digest}")
    return 0


IMAGES_DEFAULT = "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
IMAGES_HEADINGS = {"Repository": "REPOSITORY", "Tag": "TAG", "ID": "IMAGE ID", "Digest": "DIGEST",
                   "CreatedSince": "CREATED", "CreatedAt": "CREATED AT", "Size": "SIZE", "Containers": "CONTAINERS",
                   "SharedSize": "SHARED SIZE", "UniqueSize": "UNIQUE SIZE", "VirtualSize": "SIZE"}


def _rows(root: str, full: bool) -> list:
    """One row per image name, as `docker images` templates see them (Docker's imageContext)."""
    from nsbox.cli.gotemplate import Struct
    from nsbox.engine.humanize import go_time, human_size
    from nsbox.engine.docker_shape import ago
    from nsbox.image.reference import parse_reference
    from nsbox.image.store import UNTAGGED, ImageStore
    rows = []
    for image in ImageStore(root).images():
        for name in image.names:
            if name.startswith(UNTAGGED):
                repository, tag, digest = "<none>", "<none>", image.manifest_digest
            else:
                reference = parse_reference(name)
                familiar = reference.with_tag(None).familiar()
                repository, tag, digest = familiar, reference.tag or "<none>", reference.digest or image.manifest_digest
            created = image.config.created or ""
            rows.append(Struct("*formatter.imageContext", {
                "Containers": "N/A", "CreatedAt": go_time(created),
                "CreatedSince": f"{ago(created)} ago" if created else "N/A", "Digest": digest,
                "ID": image.id if full else image.id[7:19], "Repository": repository, "SharedSize": "N/A",
                "Size": human_size(image.size), "Tag": tag, "UniqueSize": "N/A",
                "VirtualSize": human_size(image.size, 4)}))
    rows.sort(key=lambda row: (row["Repository"], row["Tag"]))
    rows.sort(key=lambda row: row["CreatedAt"], reverse=True)  # newest first, as Docker lists them
    return rows


def cmd_images(options: dict, operands: list[str], root: str) -> int:
    rows = _rows(root, bool(options.get("no_trunc")))
    if operands:
        from nsbox.image.reference import parse_reference
        wanted = parse_reference(operands[0], default_tag=False)
        rows = [row for row in rows if row["Repository"] == wanted.with_tag(None).familiar()
                and (wanted.tag is None or row["Tag"] == wanted.tag)]
    if options.get("quiet"):
        seen = []
        for row in rows:
            if row["ID"] not in seen:
                seen.append(row["ID"])
        for shown in seen:
            print(shown)
        return 0
    from nsbox.cli.formatting import render
    default = IMAGES_DEFAULT.replace("{{.ID}}", "{{.Digest}}\t{{.ID}}") if options.get("digests") else IMAGES_DEFAULT
    sys.stdout.write(render(options.get("format"), rows, IMAGES_HEADINGS, default))
    return 0


def cmd_rmi(options: dict, operands: list[str], root: str) -> int:
    from nsbox.image.manage import remove_image
    failed = 0
    for name in operands:
        try:
            for line in remove_image(root, name, force=bool(options.get("force"))):
                print(line)
        except NsboxError as error:  # report each and go on, as Docker does
            sys.stderr.write(f"nsbox: {error}\n")
            failed = error.exit_code
    return failed


def cmd_tag(options: dict, operands: list[str], root: str) -> int:
    from nsbox.image.manage import tag
    tag(root, operands[0], operands[1])
    return 0


def cmd_inspect(options: dict, operands: list[str], root: str) -> int:
    from nsbox.image.manage import describe
    shown = [describe(root, name) for name in operands]
    if options.get("format") and options["format"] != "json":
        from nsbox.cli.formatting import render_each
        sys.stdout.write(render_each(options["format"], shown))
    else:
        import json
        print(json.dumps(shown, indent=4))
    return 0


def cmd_load(options: dict, operands: list[str], root: str) -> int:
    from nsbox.image.archive import load
    source = options.get("input")
    names = load(root, source if source and source != "-" else sys.stdin.buffer)
    for name in names:
        print(f"Loaded image: {name}")
    return 0


def cmd_save(options: dict, operands: list[str], root: str) -> int:
    from nsbox.image.archive import save
    if not options.get("output") and sys.stdout.isatty():
        raise ImageError("refusing to write an image archive to a terminal: use -o FILE or redirect stdout")
    save(root, operands, options.get("output") or sys.stdout.buffer)
    return 0


def cmd_import(options: dict, operands: list[str], root: str) -> int:
    from nsbox.image.archive import import_rootfs
    file = operands[0]
    if file != "-" and not os.path.isfile(file):
        from nsbox.errors import NotFound
        raise NotFound(f"{file}: no such file (give a root filesystem tarball, or - for stdin)")
    image = import_rootfs(root, sys.stdin.buffer if file == "-" else file, operands[1] if len(operands) > 1 else None,
                          options.get("change") or [])
    print(image.id)
    return 0


def cmd_prune(options: dict, operands: list[str], root: str) -> int:
    from nsbox.image.manage import prune
    removed, freed = prune(root)
    for line in removed:
        print(f"Deleted {line}")
    from nsbox.engine.humanize import human_size
    print(f"Total reclaimed space: {human_size(freed)}")
    return 0


def cmd_login(options: dict, operands: list[str], root: str) -> int:
    from nsbox.image import credentials
    from nsbox.image.reference import parse_reference
    from nsbox.image.registry import RegistryClient
    server = operands[0] if operands else "docker.io"
    if "/" in server:
        server = server.split("://")[-1].split("/")[0]
    user = options.get("username") or input("Username: ")
    if options.get("password_stdin"):
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = options.get("password")
        if password is None:
            import getpass
            password = getpass.getpass("Password: ")
    from nsbox.image.pull import configured_insecure_registries
    endpoint = parse_reference(f"{server}/x").endpoint if server != "docker.io" else "registry-1.docker.io"
    insecure = server in _insecure(options) + configured_insecure_registries(root)
    RegistryClient(endpoint, insecure=insecure, credentials=(user, password)).check()
    credentials.save(root, server, user, password)
    print("Login Succeeded")
    return 0


def cmd_logout(options: dict, operands: list[str], root: str) -> int:
    from nsbox.image import credentials
    server = operands[0] if operands else "docker.io"
    if not credentials.remove(root, server):
        from nsbox.errors import NotFound
        raise NotFound(f"not logged in to {server}")
    print(f"Removing login credentials for {server}")
    return 0


# name -> (its operands, the least and most of them (None: any number), what it does, its
# flags, what runs it); `nsbox image NAME` and the top-level aliases (`nsbox images`) share them.
SUBCOMMANDS: dict[str, tuple[str, int, int | None, str, tuple, Callable[[dict, list[str], str], int]]] = {
    "pull": ("IMAGE", 1, 1, "Pull an image from a registry.",
             (flag("--platform OS/ARCH[/VARIANT]", "the platform to pick from a multi-platform image"), INSECURE),
             cmd_pull),
    "push": ("IMAGE", 1, 1, "Push an image to a registry.", (INSECURE,), cmd_push),
    "ls": ("[REPOSITORY[:TAG]]", 0, 1, "List images.", (
        flag("-q --quiet", "only image IDs"),
        flag("--format FORMAT", "table (the default), json, or a Go template: '{{.Repository}}:{{.Tag}}'"),
        flag("--no-trunc", "full image IDs"),
        flag("--digests", "a DIGEST column")), cmd_images),
    "rm": ("IMAGE [IMAGE...]", 1, None, "Remove images (names, or IDs).", (
        flag("-f --force", "remove an ID with several names, or the names of an image in use"),), cmd_rmi),
    "tag": ("SOURCE TARGET", 2, 2, "Give an image another name.", (), cmd_tag),
    "inspect": ("IMAGE [IMAGE...]", 1, None, "Show images as JSON.", (
        flag("-f --format FORMAT", "a Go template, e.g. '{{.Id}}', or json"),), cmd_inspect),
    "load": ("", 0, 0, "Load a docker-save or OCI archive.", (
        flag("-i --input FILE", "the archive file (default: stdin)"),), cmd_load),
    "save": ("IMAGE [IMAGE...]", 1, None, "Write images to an archive (docker-save and OCI at once).", (
        flag("-o --output FILE", "the archive file (default: stdout)"),), cmd_save),
    "import": ("FILE|- [REPOSITORY[:TAG]]", 1, 2, "Make a one-layer image of a root filesystem tarball "
               "(plain or gzip; - for stdin).", (
        flag("-c --change INSTRUCTION...", "a CMD, ENTRYPOINT, ENV, WORKDIR, USER, EXPOSE or LABEL instruction"),),
        cmd_import),
    "prune": ("", 0, 0, "Remove unnamed images and unreferenced blobs and layers.", (
        flag("-f --force", "accepted for Docker compatibility"),), cmd_prune),
    "login": ("[SERVER]", 0, 1, "Save credentials for a registry.", (
        flag("-u --username NAME", "the user name (asked when not given)"),
        flag("-p --password PASSWORD", "the password (asked when not given)"),
        flag("--password-stdin", "read the password from stdin"), INSECURE), cmd_login),
    "logout": ("[SERVER]", 0, 1, "Forget a registry's credentials.", (), cmd_logout),
}
SYNONYMS = {"list": "ls", "remove": "rm"}
USAGE = ("usage: nsbox image COMMAND [ARGS...]\n  commands: " + ", ".join(sorted([*SUBCOMMANDS, *SYNONYMS, "history"]))
         + "\n(nsbox image COMMAND --help for a command's flags)")


def run_subcommand(name: str, prog: str, argv: list[str], root: str) -> int:
    """Run subcommand `name`, spelled `prog` in its usage (`nsbox image ls`, `nsbox images`)."""
    operands_text, least, most, summary, flags, handler = SUBCOMMANDS[name]
    command = Command(f"{prog} [OPTIONS] {operands_text}".rstrip() if flags else f"{prog} {operands_text}".rstrip(),
                      summary, *flags)
    options, operands = parse(argv, command, stop_at_positional=False)
    if len(operands) < least or (most is not None and len(operands) > most):
        wanted = f"at least {least}" if most is None else f"exactly {least}" if least == most else f"{least} to {most}"
        raise UsageError(f'"{prog}" requires {wanted} argument{"" if wanted.endswith(" 1") else "s"} '
                         f"({operands_text}), got {len(operands)}")
    try:
        return handler(options, operands, root)
    except OSError as error:
        from nsbox.cli.pull import as_image_error
        raise as_image_error(error) from error


def main(argv: list[str], root: str) -> int:
    """`nsbox image SUBCOMMAND ...`"""
    name = SYNONYMS.get(argv[0], argv[0]) if argv else ""
    if name == "history":
        from nsbox.cli.history import main as history
        return history(argv[1:], root)
    if name in ("-h", "--help"):
        print(USAGE)
        return 0
    if name not in SUBCOMMANDS:
        raise ConfigError("COMMAND", f"{'unknown image command ' + repr(name) if name else 'name a command'}\n{USAGE}")
    return run_subcommand(name, f"nsbox image {argv[0]}", argv[1:], root)


def alias(name: str, prog: str) -> Callable[[list[str], str], int]:
    """main() of a top-level alias: `nsbox images` is `nsbox image ls`, with its own usage line."""
    def main(argv: list[str], root: str) -> int:
        return run_subcommand(name, f"nsbox {prog}", argv, root)
    return main
