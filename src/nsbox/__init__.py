"""nsbox: Linux containers with no daemon.

Kept empty on purpose: `nsbox-runtime create` imports this package, and every import
costs start-up time.
"""
