"""The image commands: `nsbox image SUBCOMMAND` and their top-level aliases
(pull, push, images, rmi, tag, load, save, import, login, logout)."""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys

from nsbox.errors import ImageError, NsboxError


def _insecure(args) -> tuple[str, ...]:
    return tuple(args.insecure_registry or ())


def _add_insecure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--insecure-registry", action="append", metavar="HOST[:PORT]",
                        help="talk plain HTTP to this registry (loopback registries always are; "
                             "to keep the setting, list it in ROOT/registries.json as "
                             '{"insecure-registries": ["host:port"]})')


def _progress(title: str):
    from nsbox.image.progress import for_terminal
    shown = for_terminal(title)
    return (shown or contextlib.nullcontext()), shown


def cmd_pull(args, root: str) -> int:
    from nsbox.cli.pull import pull_image
    return pull_image(args.image, args.platform, _insecure(args), root)


def cmd_push(args, root: str) -> int:
    from nsbox.image.push import push
    context, progress = _progress(f"Pushing {args.image}")
    with context:
        digest = push(root, args.image, insecure_registries=_insecure(args), progress=progress)
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


def cmd_images(args, root: str) -> int:
    rows = _rows(root, args.no_trunc)
    if args.filter:
        from nsbox.image.reference import parse_reference
        wanted = parse_reference(args.filter, default_tag=False)
        rows = [row for row in rows if row["Repository"] == wanted.with_tag(None).familiar()
                and (wanted.tag is None or row["Tag"] == wanted.tag)]
    if args.quiet:
        seen = []
        for row in rows:
            if row["ID"] not in seen:
                seen.append(row["ID"])
        for shown in seen:
            print(shown)
        return 0
    from nsbox.cli.formatting import render
    default = IMAGES_DEFAULT.replace("{{.ID}}", "{{.Digest}}\t{{.ID}}") if args.digests else IMAGES_DEFAULT
    sys.stdout.write(render(args.format, rows, IMAGES_HEADINGS, default))
    return 0


def cmd_rmi(args, root: str) -> int:
    from nsbox.image.manage import remove_image
    failed = 0
    for name in args.images:
        try:
            for line in remove_image(root, name, force=args.force):
                print(line)
        except NsboxError as error:  # report each and go on, as Docker does
            sys.stderr.write(f"nsbox: {error}\n")
            failed = error.exit_code
    return failed


def cmd_tag(args, root: str) -> int:
    from nsbox.image.manage import tag
    tag(root, args.source, args.target)
    return 0


def cmd_inspect(args, root: str) -> int:
    from nsbox.image.manage import describe
    shown = [describe(root, name) for name in args.images]
    if args.format and args.format != "json":
        from nsbox.cli.formatting import render_each
        sys.stdout.write(render_each(args.format, shown))
    else:
        print(json.dumps(shown, indent=4))
    return 0


def cmd_load(args, root: str) -> int:
    from nsbox.image.archive import load
    names = load(root, args.input if args.input and args.input != "-" else sys.stdin.buffer)
    for name in names:
        print(f"Loaded image: {name}")
    return 0


def cmd_save(args, root: str) -> int:
    from nsbox.image.archive import save
    if not args.output and sys.stdout.isatty():
        raise ImageError("refusing to write an image archive to a terminal: use -o FILE or redirect stdout")
    save(root, args.images, args.output or sys.stdout.buffer)
    return 0


def cmd_import(args, root: str) -> int:
    from nsbox.image.archive import import_rootfs
    source = sys.stdin.buffer if args.file == "-" else args.file
    if args.file != "-" and not os.path.isfile(args.file):
        from nsbox.errors import NotFound
        raise NotFound(f"{args.file}: no such file (give a root filesystem tarball, or - for stdin)")
    image = import_rootfs(root, source, args.reference, args.change or [])
    print(image.id)
    return 0


def cmd_prune(args, root: str) -> int:
    from nsbox.image.manage import prune
    removed, freed = prune(root)
    for line in removed:
        print(f"Deleted {line}")
    from nsbox.engine.humanize import human_size
    print(f"Total reclaimed space: {human_size(freed)}")
    return 0


def cmd_login(args, root: str) -> int:
    from nsbox.image import credentials
    from nsbox.image.reference import parse_reference
    from nsbox.image.registry import RegistryClient
    server = args.server or "docker.io"
    if "/" in server:
        server = server.split("://")[-1].split("/")[0]
    user = args.username or input("Username: ")
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = args.password
        if password is None:
            import getpass
            password = getpass.getpass("Password: ")
    from nsbox.image.pull import configured_insecure_registries
    endpoint = parse_reference(f"{server}/x").endpoint if server != "docker.io" else "registry-1.docker.io"
    insecure = server in _insecure(args) + configured_insecure_registries(root)
    RegistryClient(endpoint, insecure=insecure, credentials=(user, password)).check()
    credentials.save(root, server, user, password)
    print("Login Succeeded")
    return 0


def cmd_logout(args, root: str) -> int:
    from nsbox.image import credentials
    server = args.server or "docker.io"
    if not credentials.remove(root, server):
        from nsbox.errors import NotFound
        raise NotFound(f"not logged in to {server}")
    print(f"Removing login credentials for {server}")
    return 0


def build_parser(prog: str) -> tuple[argparse.ArgumentParser, dict[str, argparse.ArgumentParser]]:
    """The `nsbox image` parser and its subcommands' parsers by name."""
    parser = argparse.ArgumentParser(prog=prog)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    pull = commands.add_parser("pull", help="pull an image from a registry")
    pull.add_argument("image")
    pull.add_argument("--platform", help="os/arch[/variant] to pick from a multi-platform image")
    _add_insecure(pull)
    pull.set_defaults(run=cmd_pull)

    push = commands.add_parser("push", help="push an image to a registry")
    push.add_argument("image")
    _add_insecure(push)
    push.set_defaults(run=cmd_push)

    for name in ("ls", "list"):
        images = commands.add_parser(name, help="list images")
        images.add_argument("filter", nargs="?", help="only this repository[:tag]")
        images.add_argument("-q", "--quiet", action="store_true", help="only image IDs")
        images.add_argument("--format", help="table (the default), json, or a Go template: '{{.Repository}}:{{.Tag}}'")
        images.add_argument("--no-trunc", action="store_true", help="full image IDs")
        images.add_argument("--digests", action="store_true", help="a DIGEST column")
        images.set_defaults(run=cmd_images)

    for name in ("rm", "remove"):
        rmi = commands.add_parser(name, help="remove images (names, or IDs)")
        rmi.add_argument("images", nargs="+")
        rmi.add_argument("-f", "--force", action="store_true",
                         help="remove an ID with several names, or the names of an image in use")
        rmi.set_defaults(run=cmd_rmi)

    tag = commands.add_parser("tag", help="give an image another name")
    tag.add_argument("source")
    tag.add_argument("target")
    tag.set_defaults(run=cmd_tag)

    inspect = commands.add_parser("inspect", help="show images as JSON")
    inspect.add_argument("images", nargs="+")
    inspect.add_argument("-f", "--format", help="a Go template, e.g. '{{.Id}}', or json")
    inspect.set_defaults(run=cmd_inspect)

    load = commands.add_parser("load", help="load a docker-save or OCI archive")
    load.add_argument("-i", "--input", help="archive file (default: stdin)")
    load.set_defaults(run=cmd_load)

    save = commands.add_parser("save", help="write images to an archive (docker-save and OCI)")
    save.add_argument("images", nargs="+")
    save.add_argument("-o", "--output", help="archive file (default: stdout)")
    save.set_defaults(run=cmd_save)

    imported = commands.add_parser("import", help="a root filesystem tarball as a one-layer image")
    imported.add_argument("file", help="tarball (plain or gzip), or - for stdin")
    imported.add_argument("reference", nargs="?", help="name for the image, e.g. myimage:1")
    imported.add_argument("-c", "--change", action="append",
                          help="CMD, ENTRYPOINT, ENV, WORKDIR, USER, EXPOSE or LABEL instruction")
    imported.set_defaults(run=cmd_import)

    prune = commands.add_parser("prune", help="remove unnamed images and unreferenced blobs and layers")
    prune.add_argument("-f", "--force", action="store_true", help="accepted for Docker compatibility")
    prune.set_defaults(run=cmd_prune)

    login = commands.add_parser("login", help="save credentials for a registry")
    login.add_argument("server", nargs="?")
    login.add_argument("-u", "--username")
    login.add_argument("-p", "--password")
    login.add_argument("--password-stdin", action="store_true")
    _add_insecure(login)
    login.set_defaults(run=cmd_login)

    logout = commands.add_parser("logout", help="forget a registry's credentials")
    logout.add_argument("server", nargs="?")
    logout.set_defaults(run=cmd_logout)
    return parser, commands.choices


def _run(parser: argparse.ArgumentParser, argv: list[str], root: str) -> int:
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:  # --help, or a usage error argparse has already explained
        return 125 if stop.code not in (0, None) else 0
    try:
        return args.run(args, root)
    except OSError as error:
        from nsbox.cli.pull import as_image_error
        raise as_image_error(error) from error


def main(argv: list[str], root: str) -> int:
    """`nsbox image SUBCOMMAND ...`"""
    if argv and argv[0] == "history":
        from nsbox.cli.history import main as history
        return history(argv[1:], root)
    return _run(build_parser("nsbox image")[0], argv, root)


def alias(command: str, name: str):
    """main() of a top-level alias: `nsbox images` is `nsbox image ls`, with its own usage line."""
    def main(argv: list[str], root: str) -> int:
        subcommand = build_parser("nsbox image")[1][command]
        subcommand.prog = f"nsbox {name}"
        return _run(subcommand, argv, root)
    return main
