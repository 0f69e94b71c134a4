"""Fakes shipped with the package for tests (never imported by production code)."""
