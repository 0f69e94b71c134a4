"""build/cachefrom.py: moby's valid-parent + created_by rule for --cache-from."""

from dockyard.build.cachefrom import Hit, Source, match

H = [{"created": "t0", "created_by": "base"}, {"created": "t1", "created_by": "ENV", "empty_layer": True},
     {"created": "t2", "created_by": "RUN a"}, {"created": "t3", "created_by": "RUN b"}]
SRC = Source(tuple(H), ("d0", "d2", "d3"), ("b0", "b2", "b3"))


def test_next_step_matches_on_created_by_with_its_layer():
    assert match([SRC], H[:2], ["d0"], "RUN a") == Hit(H[2], "d2", "b2")
    assert match([SRC], H[:3], ["d0", "d2"], "RUN b") == Hit(H[3], "d3", "b3")


def test_empty_layer_entries_carry_no_layer():
    assert match([SRC], H[:1], ["d0"], "ENV") == Hit(H[1])


def test_no_match_when_the_command_or_the_prefix_differs():
    assert match([SRC], H[:2], ["d0"], "RUN other") is None
    assert match([SRC], [H[0], {**H[1], "created": "later"}], ["d0"], "RUN a") is None  # timestamps count
    assert match([SRC], H[:2], ["dX"], "RUN a") is None
    assert match([SRC], H, ["d0", "d2", "d3"], "RUN c") is None  # nothing after the last entry


def test_first_matching_source_wins_and_bad_sources_are_skipped():
    other = Source(tuple(H[:2]) + ({"created": "x", "created_by": "RUN a"},), ("d0", "dz"), ("b0", "bz"))
    broken = Source(tuple(H), ("d0",), ("b0",))  # history says a layer, rootfs has none
    assert match([broken, other, SRC], H[:2], ["d0"], "RUN a") == Hit(other.history[2], "dz", "bz")


def test_source_of_an_image_config():
    cfg = {"history": H, "rootfs": {"type": "layers", "diff_ids": ["d0", "d2", "d3"]}}
    assert Source.of(cfg, ["b0", "b2", "b3"]) == SRC
