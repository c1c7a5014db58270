"""Networks: a container's network namespace and its interfaces, through the standard CNI
plugins (bridge, host-local, portmap, bandwidth, ...) driven by CNI config lists.

  conflists   the networks of one nsbox root, as CNI config lists (.conflist files)
  cni         the plugin caller (CNI 1.0: env + config on stdin, result on stdout)
  subnets     host-wide subnet claims, so that two nsbox roots never share an address
  netns       a persistent network namespace file for a container
  attach      a container's networks: ADD at start, DEL at every end, the kept result
  ports       -p/--publish and -P parsing, free host ports
  etc_files   /etc/hosts, /etc/resolv.conf and /etc/hostname of a container
"""
