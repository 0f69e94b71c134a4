"""DNS messages, just enough for the embedded server (pure, RFC 1035).

We parse the header and the first question, and build answers with A
records, a PTR record (reverse lookups of container addresses), empty answers (NOERROR/NODATA: the name exists, not that type) and
errors. Anything else is forwarded upstream untouched, so we never need to
understand more than this.
"""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass

TYPE_A, TYPE_AAAA, TYPE_PTR = 1, 28, 12
CLASS_IN = 1
RCODE_OK, RCODE_FORMERR, RCODE_SERVFAIL, RCODE_NXDOMAIN = 0, 1, 2, 3
_QR, _AA, _RD, _RA = 0x8000, 0x0400, 0x0100, 0x0080


class DnsFormatError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Question:
    id: int
    flags: int
    name: str  # lowercase, no trailing dot
    qtype: int
    qclass: int
    raw_question: bytes  # the question section as sent, echoed in replies


def _read_name(data: bytes, off: int) -> tuple[str, int]:
    labels: list[str] = []
    while True:
        if off >= len(data):
            raise DnsFormatError("truncated name")
        n = data[off]
        if n == 0:
            return ".".join(labels), off + 1
        if n & 0xC0:
            raise DnsFormatError("compressed name in a question")
        labels.append(data[off + 1: off + 1 + n].decode("ascii", "replace"))
        off += 1 + n
        if len(labels) > 127:
            raise DnsFormatError("name too long")


def parse_query(data: bytes) -> Question:
    if len(data) < 12:
        raise DnsFormatError("short message")
    id, flags, qd, _an, _ns, _ar = struct.unpack_from("!HHHHHH", data)
    if flags & _QR or qd < 1:
        raise DnsFormatError("not a query")
    name, off = _read_name(data, 12)
    if off + 4 > len(data):
        raise DnsFormatError("truncated question")
    qtype, qclass = struct.unpack_from("!HH", data, off)
    return Question(id, flags, name.lower().rstrip("."), qtype, qclass, data[12: off + 4])


def encode_query(id: int, name: str, qtype: int = TYPE_A) -> bytes:
    """A recursive query (tests and health checks)."""
    q = b"".join(bytes([len(l)]) + l.encode() for l in name.rstrip(".").split(".") if l) + b"\0"
    return struct.pack("!HHHHHH", id, _RD, 1, 0, 0, 0) + q + struct.pack("!HH", qtype, CLASS_IN)


def reply(q: Question, addresses: tuple[str, ...] = (), *, rcode: int = RCODE_OK, ttl: int = 600) -> bytes:
    """An authoritative answer with an A record per address."""
    flags = _QR | _AA | _RA | (q.flags & _RD) | rcode
    out = [struct.pack("!HHHHHH", q.id, flags, 1, len(addresses), 0, 0), q.raw_question]
    for ip in addresses:
        # 0xC00C: a pointer to the question's name at offset 12
        out.append(struct.pack("!HHHIH", 0xC00C, TYPE_A, CLASS_IN, ttl, 4) + socket.inet_aton(ip))
    return b"".join(out)


def _encode_name(name: str) -> bytes:
    labels = [l.encode("idna") if not l.isascii() else l.encode() for l in name.rstrip(".").split(".") if l]
    if any(len(l) > 63 for l in labels):
        raise DnsFormatError("label too long")
    return b"".join(bytes([len(l)]) + l for l in labels) + b"\0"


def ptr_address(name: str) -> str | None:
    """``4.3.2.1.in-addr.arpa`` -> ``1.2.3.4``; None for any other name."""
    if not name.endswith(".in-addr.arpa"):
        return None
    parts = name[: -len(".in-addr.arpa")].split(".")
    if len(parts) != 4 or not all(p.isdigit() and int(p) < 256 and str(int(p)) == p for p in parts):
        return None
    return ".".join(reversed(parts))


def ptr_reply(q: Question, target: str, *, ttl: int = 600) -> bytes:
    """An authoritative answer with one PTR record naming ``target``."""
    flags = _QR | _AA | _RA | (q.flags & _RD)
    rdata = _encode_name(target)
    return b"".join([struct.pack("!HHHHHH", q.id, flags, 1, 1, 0, 0), q.raw_question,
                     struct.pack("!HHHIH", 0xC00C, TYPE_PTR, CLASS_IN, ttl, len(rdata)), rdata])


def error_reply(data: bytes, rcode: int) -> bytes | None:
    """An error answer echoing whatever header we could read (None if none)."""
    if len(data) < 12:
        return None
    id, flags = struct.unpack_from("!HH", data)
    return struct.pack("!HHHHHH", id, _QR | _RA | (flags & _RD) | rcode, 0, 0, 0, 0)


def decode_answers(data: bytes) -> tuple[int, list[str]]:
    """(rcode, A-record addresses and PTR names) of a reply (tests and diagnostics)."""
    _id, flags, qd, an, _ns, _ar = struct.unpack_from("!HHHHHH", data)
    off = 12
    for _ in range(qd):
        _, off = _read_name(data, off)
        off += 4
    out = []
    for _ in range(an):
        if data[off] & 0xC0:
            off += 2
        else:
            _, off = _read_name(data, off)
        rtype, _cls, _ttl, rdlen = struct.unpack_from("!HHIH", data, off)
        off += 10
        if rtype == TYPE_A and rdlen == 4:
            out.append(socket.inet_ntoa(data[off: off + 4]))
        elif rtype == TYPE_PTR:
            out.append(_read_name(data, off)[0])
        off += rdlen
    return flags & 0xF, out


__all__ = ["DnsFormatError", "Question", "decode_answers", "encode_query", "error_reply", "parse_query", "ptr_address",
           "ptr_reply", "reply"]
