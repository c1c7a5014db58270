"""serve: the Docker Engine API on a unix socket, answered by nsbox's engine, so that the
docker CLI, docker-py and compose drive nsbox. A face like the CLI: it parses requests,
calls the engine and shapes answers as Docker's.

http.py is the server (a thread per connection, hijacked streams for attach and exec);
routes.py maps paths to handlers; containers.py, execs.py, images.py and system.py answer.
Steps that fork a long-lived process (start's monitor, exec) run as `nsbox` commands in a
child process: forking this threaded server itself would copy its other threads' locks.
"""
