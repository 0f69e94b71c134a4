"""``Firewall`` seam and ``IptablesFirewall`` (iptables, nf_tables or legacy
backend, whichever Debian's alternatives select).

Why iptables rather than nft: it is installed on every Debian host that runs
Docker, and its rule text is what operators compare with Docker's. Rule
*content* is decided in ``network/rules.py``; this module only runs it.
"""

from __future__ import annotations

import subprocess
from typing import Protocol, Sequence

from dockyard.errors import Internal


class Firewall(Protocol):
    def restore(self, script: str) -> None:
        """Apply an ``iptables-restore --noflush`` script atomically."""
        ...

    def ensure_rule(self, table: str, chain: str, args: Sequence[str], *, first: bool = False) -> None:
        """Add the rule unless it is there already."""
        ...

    def delete_rule(self, table: str, chain: str, args: Sequence[str]) -> None:
        """Remove every copy of the rule; nothing when absent."""
        ...

    def delete_chain(self, table: str, chain: str) -> None:
        """Flush and delete the chain; nothing when absent."""
        ...


class IptablesFirewall:
    def __init__(self, iptables: str = "iptables", restore: str = "iptables-restore") -> None:
        self._iptables = iptables
        self._restore = restore

    def _run(self, *args: str, check: bool = True) -> bool:
        cp = subprocess.run([self._iptables, "-w", *args], capture_output=True, timeout=30)
        if check and cp.returncode != 0:
            raise Internal(f"iptables {' '.join(args)}: {cp.stderr.decode(errors='replace').strip()}")
        return cp.returncode == 0

    def restore(self, script: str) -> None:
        cp = subprocess.run([self._restore, "-w", "--noflush"], input=script.encode(), capture_output=True,
                            timeout=30)
        if cp.returncode != 0:
            raise Internal(f"iptables-restore: {cp.stderr.decode(errors='replace').strip()}")

    def ensure_rule(self, table: str, chain: str, args: Sequence[str], *, first: bool = False) -> None:
        if not self._run("-t", table, "-C", chain, *args, check=False):
            if first:
                self._run("-t", table, "-I", chain, "1", *args)
            else:
                self._run("-t", table, "-A", chain, *args)

    def delete_rule(self, table: str, chain: str, args: Sequence[str]) -> None:
        for _ in range(16):  # bounded: duplicates left by an older daemon are removed too
            if not self._run("-t", table, "-D", chain, *args, check=False):
                return

    def delete_chain(self, table: str, chain: str) -> None:
        if self._run("-t", table, "-F", chain, check=False):
            self._run("-t", table, "-X", chain, check=False)


__all__ = ["Firewall", "IptablesFirewall"]
