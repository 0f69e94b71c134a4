"""The Dockerfile builder: pure parsing, substitution, context matching and cache keys, plus the executor."""
