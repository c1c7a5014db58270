"""The engine: containers as Docker users know them.

An image plus run options become an OCI bundle that a runtime (nsbox's own, in process,
or an OCI runtime binary such as runc) creates; a small monitor outlives the CLI for
detached containers; the store keeps every container's record, name and logs.
The `nsbox` CLI and the Python API are thin edges over this package:

    from nsbox.engine.containers import Engine
    engine = Engine(root)                       # /var/lib/nsbox, or a test's own root
    record = engine.create(options)             # options: the run flags as a dict (see runconfig)
    engine.start(record["Id"])                  # detached, under a monitor (run -d, start)
    run_foreground(engine, record["Id"], interactive, tty)   # nsbox.engine.foreground: run
    engine.get(name) / engine.list(include_stopped)          # Docker-shaped records, State made truthful
    engine.stop(name, timeout) / kill(name, signal) / wait(name) / pause / unpause / restart
    engine.remove(name, force, volumes) / rename(name, new) / update(name, options)
    run_exec(engine, name, args, ...)           # nsbox.engine.execs
    usage.sample/summarize/processes            # stats and top
"""
