"""The engine's vocabulary: value types and Protocols. No I/O, no third-party imports."""
