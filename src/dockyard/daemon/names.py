"""Container names: Docker's validation rule and generated adjective_surname names."""

from __future__ import annotations

import random
import re
from typing import Callable

from dockyard.errors import InvalidArgument

_VALID = re.compile(r"^/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$")

# Our own lists, in the spirit of Docker's namesgenerator: harmless adjectives,
# and people who built the tools engines stand on.
_ADJECTIVES = (
    "agile", "bold", "brave", "bright", "calm", "clever", "cool", "crisp", "daring", "eager",
    "fair", "fervent", "gentle", "happy", "hardy", "keen", "kind", "lively", "lucid", "merry",
    "modest", "nimble", "noble", "patient", "placid", "quick", "quiet", "rapid", "serene", "sharp",
    "sleek", "steady", "sturdy", "swift", "tidy", "upbeat", "vivid", "warm", "wise", "zesty",
)
_SURNAMES = (
    "babbage", "backus", "bartik", "bell", "berners", "cerf", "corbato", "dijkstra", "engelbart",
    "feinberg", "floyd", "hamilton", "hoare", "hopper", "johnson", "kahn", "kernighan", "knuth",
    "lamport", "liskov", "lovelace", "mccarthy", "mcilroy", "milner", "minsky", "naur", "perlman",
    "pike", "ritchie", "shannon", "spaerck", "stallman", "sutherland", "tanenbaum", "thompson",
    "torvalds", "turing", "wilkes", "wirth", "yonath",
)


def validate_name(name: str) -> str:
    """Docker's rule; returns the name without a leading "/"."""
    if not _VALID.match(name):
        raise InvalidArgument(f"Invalid container name ({name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed")
    return name.lstrip("/")


def generate_name(taken: Callable[[str], bool], rng: random.Random | None = None) -> str:
    """A free adjective_surname name; a digit suffix after repeated collisions, as Docker."""
    r = rng or random.SystemRandom()
    for attempt in range(20):
        name = f"{r.choice(_ADJECTIVES)}_{r.choice(_SURNAMES)}"
        if attempt > 5:
            name += str(r.randint(0, 9))
        if not taken(name):
            return name
    raise InvalidArgument("could not generate a free container name")
