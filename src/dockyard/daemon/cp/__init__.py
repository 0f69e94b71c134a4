"""``docker cp`` on the daemon side: path resolution inside a container root,
tar out, safe extraction in, and the private mount namespace used for
stopped containers.  Every path is walked fd by fd from the container's root
(never by the kernel following a container symlink), so no symlink in the
container, however swapped, can make a copy read or write a host file."""
