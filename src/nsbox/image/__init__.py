"""Images: the content-addressed store, layer unpacking, overlayfs root filesystems,
the registry client and image archives.

What the engine uses (`root` is the nsbox root, /var/lib/nsbox by default):

    from nsbox.image.rootfs import prepare_rootfs, remove_rootfs, image_users, containers_using
    merged = prepare_rootfs(root, "busybox", container_id)   # overlayfs mounted, ~1 ms
    remove_rootfs(root, container_id)                        # unmounted and deleted
    from nsbox.image.store import ImageStore
    image = ImageStore(root).resolve("busybox")                   # NotFound if absent
    image.id, image.config.cmd, image.config.entrypoint, image.config.env,
    image.config.working_dir, image.config.user, image.config.exposed_ports, image.config.raw

The registry client (image.registry, image.pull, image.push) and the archive code are
never imported on the container start path.
"""
