"""Kernel seams for networking: netlink (links, addresses, routes), the
firewall (iptables rules), network namespaces and host port reservations."""
