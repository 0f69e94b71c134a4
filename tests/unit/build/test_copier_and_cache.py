"""build/copier.py (COPY/ADD/WORKDIR plans and layer tars) and build/cache.py (step keys), without root."""

import io
import os
import stat
import tarfile
from pathlib import Path

import pytest

from dockyard.build import cache, copier
from dockyard.errors import InvalidArgument, NotFound


def image(entries: dict[str, str]):
    """A lookup over a fake image: path -> 'dir' | 'file'."""
    def lookup(parts):
        kind = entries.get("/".join(parts))
        if kind is None:
            return None
        mode = (stat.S_IFDIR | 0o700) if kind == "dir" else (stat.S_IFREG | 0o644)
        return os.stat_result((mode, 0, 0, 1, 0, 0, 0, 0, 0, 0))
    return lookup


@pytest.fixture
def ctx(tmp_path: Path) -> Path:
    root = tmp_path / "ctx"
    (root / "dir" / "sub").mkdir(parents=True)
    (root / "dir" / "a.txt").write_text("a")
    (root / "dir" / "sub" / "b.txt").write_text("bb")
    (root / "one.txt").write_text("1")
    os.chmod(root / "one.txt", 0o640)
    os.symlink("/dir/a.txt", root / "abs-link")  # absolute, resolved inside the context
    os.symlink("/etc/passwd", root / "host-link")
    return root


def names(plan: copier.Plan) -> list[str]:
    return ["/".join(p.parts) for p in plan.ordered()]


def test_directory_source_copies_its_contents_and_missing_parents_are_made(ctx):
    plan = copier.Plan(image({"app": "dir"}))
    plan.add_path(str(ctx), "dir", ("app", "new"), into_dir=False)
    assert names(plan) == ["app/new", "app/new/a.txt", "app/new/sub", "app/new/sub/b.txt"]  # app kept as is
    assert plan.items[("app", "new")].entry.mode == 0o755


def test_file_onto_an_existing_directory_lands_inside_it(ctx):
    plan = copier.Plan(image({"srv": "dir"}))
    plan.add_path(str(ctx), "one.txt", ("srv",), into_dir=False)
    assert names(plan) == ["srv/one.txt"]
    assert plan.items[("srv", "one.txt")].entry.mode == 0o640


def test_file_onto_a_new_name_is_renamed(ctx):
    plan = copier.Plan(image({}))
    plan.add_path(str(ctx), "one.txt", ("etc", "renamed"), into_dir=False)
    assert names(plan) == ["etc", "etc/renamed"]


def test_chown_and_chmod_apply_to_copied_files_and_dirs(ctx):
    plan = copier.Plan(image({}), copier.Owner(1000, 100), 0o600)
    plan.add_path(str(ctx), "dir", ("d",), into_dir=False)
    for p in plan.ordered():
        if p.parts != ("d",):
            assert (p.entry.uid, p.entry.gid, p.entry.mode) == (1000, 100, 0o600), p


def test_copy_onto_a_file_parent_is_refused(ctx):
    plan = copier.Plan(image({"etc": "file"}))
    with pytest.raises(InvalidArgument, match="not a directory"):
        plan.add_path(str(ctx), "one.txt", ("etc", "x"), into_dir=False)


def test_missing_source_and_symlinks_stay_in_the_context(ctx):
    plan = copier.Plan(image({}))
    with pytest.raises(NotFound):
        plan.add_path(str(ctx), "nope", ("x",), into_dir=False)
    plan.add_path(str(ctx), "abs-link", ("x",), into_dir=False)
    assert plan.items[("x",)].source == str(ctx / "dir" / "a.txt")
    with pytest.raises(NotFound):
        plan.add_path(str(ctx), "host-link", ("y",), into_dir=False)  # /etc/passwd inside the context: absent
    assert copier.scoped(str(ctx), "dir/../../..") == str(ctx)


def test_layer_tar_holds_the_planned_entries_and_contents(ctx):
    plan = copier.Plan(image({}))
    plan.add_path(str(ctx), "dir", ("d",), into_dir=False)
    plan.add_data(("d", "heredoc"), b"hello\n")
    with tarfile.open(fileobj=io.BytesIO(b"".join(plan.layer_chunks()))) as tar:
        members = {m.name: m for m in tar.getmembers()}
        assert sorted(members) == ["d", "d/a.txt", "d/heredoc", "d/sub", "d/sub/b.txt"]
        assert tar.extractfile(members["d/sub/b.txt"]).read() == b"bb"
        assert tar.extractfile(members["d/heredoc"]).read() == b"hello\n"


def test_dest_parts():
    assert copier.dest_parts("rel/", "/app") == (("app", "rel"), True)
    assert copier.dest_parts(".", "/app") == (("app",), True)
    assert copier.dest_parts("/abs/file", "/app") == (("abs", "file"), False)


def test_inputs_change_with_content_mode_and_owner(ctx):
    def inputs(owner=None, chmod=None):
        plan = copier.Plan(image({}), owner, chmod)
        plan.add_path(str(ctx), "dir", ("d",), into_dir=False)
        return cache.inputs_key(plan.inputs())

    first = inputs()
    assert inputs() == first
    assert inputs(owner=copier.Owner(1, 1)) != first
    assert inputs(chmod=0o600) != first
    (ctx / "dir" / "a.txt").write_text("changed")
    assert inputs() != first


def test_step_keys_chain_and_cover_instruction_args_inputs_and_extra():
    base = cache.base_key("sha256:" + "a" * 64)
    assert base == cache.base_key("sha256:" + "a" * 64)
    assert base != cache.base_key("sha256:" + "b" * 64)
    assert cache.base_key("sha256:" + "a" * 64, "linux/amd64") != base
    k = cache.step_key(base, "RUN x", {"A": "1"}, "in", {"network": "none"})
    assert k == cache.step_key(base, "RUN x", {"A": "1"}, "in", {"network": "none"})
    variants = [cache.step_key(base, "RUN y", {"A": "1"}, "in", {"network": "none"}),
                cache.step_key(base, "RUN x", {"A": "2"}, "in", {"network": "none"}),
                cache.step_key(base, "RUN x", {"A": "1"}, "other", {"network": "none"}),
                cache.step_key(base, "RUN x", {"A": "1"}, "in", {"network": "bridge"}),
                cache.step_key(k, "RUN x", {"A": "1"}, "in", {"network": "none"})]
    assert len({k, *variants}) == 6
    # arg order does not matter, their values do
    assert cache.step_key(base, "RUN", {"A": "1", "B": "2"}) == cache.step_key(base, "RUN", {"B": "2", "A": "1"})
