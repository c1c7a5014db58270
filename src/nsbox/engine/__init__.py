"""The engine: containers as Docker users know them.

An image plus run options become an OCI bundle that a runtime (nsbox's own, in process,
or an OCI runtime binary such as runc) creates; a small monitor outlives the CLI for
detached containers; the store keeps every container's record, name and logs.
The `nsbox` CLI and the Python API are thin edges over this package.
"""
