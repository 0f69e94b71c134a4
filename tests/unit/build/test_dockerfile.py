"""Parser, substitution, .dockerignore and wildcard matching: cases from Docker's Dockerfile reference."""

from __future__ import annotations

import pytest

from dockyard.build.context import go_match_regex
from dockyard.build.dockerfile import ast, parse
from dockyard.build.dockerfile.lexer import DockerfileError
from dockyard.build.expand import SubstitutionError, word, words
from dockyard.wire.dockerignore import Matcher, read_patterns


def _only(text: str) -> ast.Instruction:
    df = parse("FROM scratch\n" + text)
    (instr,) = df.stages[0].instructions
    return instr


def test_directives_comments_continuations_and_case():
    df = parse("# escape=`\n# syntax=docker/dockerfile:1\nfrom busybox\n# a comment\nrun echo a `\n"
               "  # dropped\n\n  b\nRUN echo #not a comment\n")
    run1, run2 = df.stages[0].instructions
    assert df.escape == "`" and run1.args == "echo a   b" and run2.args == "echo #not a comment"
    assert any("syntax" in n for n in df.notes)
    # a directive after the first instruction is just a comment
    assert parse("FROM a\n# escape=`\nRUN x \\\n y\n").stages[0].instructions[0].args == "x  y"


@pytest.mark.parametrize("text, message", [
    ("FROM busybox\nRUNN true\n", "Dockerfile:2: unknown instruction: RUNN"),
    ("RUN true\n", "Dockerfile:1: no build stage in current context"),
    ("", "the Dockerfile cannot be empty"),
    ("# escape=x\nFROM a\n", "Dockerfile:1: invalid escape token 'x'"),
    ("FROM a\nCOPY onlyone\n", "Dockerfile:2: COPY requires at least two arguments"),
    ("FROM a\nENV A\n", "Dockerfile:2: ENV must have two arguments"),
    ("FROM a\nSHELL /bin/sh\n", "Dockerfile:2: SHELL requires the arguments to be in JSON form"),
    ("FROM a\nONBUILD ONBUILD RUN x\n", "ONBUILD ONBUILD"),
    ("FROM a\nRUN --bogus=1 x\n", "Dockerfile:2: unknown flag: bogus"),
    ("FROM a AS x\nFROM b AS x\n", "Dockerfile:2: duplicate name x"),
    ("FROM a\nCOPY <<EOF /x\nno end\n", "unterminated heredoc EOF"),
])
def test_errors_name_file_and_line(text, message):
    with pytest.raises(DockerfileError) as e:
        parse(text)
    assert message in str(e.value)


def test_forms_flags_and_heredocs():
    assert _only('CMD ["a", "b"]').args == ("a", "b")
    assert _only("CMD [not json").args == "[not json"
    run = _only("RUN --network=none --mount=type=cache,target=/c echo hi")
    assert run.network == "none" and run.mounts == ("type=cache,target=/c",) and run.args == "echo hi"
    cp = _only('COPY --from=build --chown=1:2 --chmod=644 --link a b /dst/')
    assert (cp.from_, cp.chown, cp.chmod, cp.link, cp.sources, cp.dest) == ("build", "1:2", "644", True, ("a", "b"), "/dst/")
    hd = _only("COPY <<-'EOF' /f\n\tline $X\n\tEOF\n")
    assert hd.heredocs[0].body == "line $X\n" and not hd.heredocs[0].expand and hd.dest == "/f"
    env = _only('ENV A=1 B="two words" C=three\\ words')
    assert env.pairs == (("A", "1"), ("B", '"two words"'), ("C", "three\\ words"))
    assert _only("ENV LEGACY value with spaces").pairs == (("LEGACY", "value with spaces"),)
    hc = _only("HEALTHCHECK --interval=1m30s --timeout=3s --retries=3 CMD curl -f http://x/ || exit 1")
    assert hc.test == ("CMD-SHELL", "curl -f http://x/ || exit 1") and hc.interval == 90 * 10**9
    assert _only("HEALTHCHECK NONE").test == ("NONE",)
    df = parse("ARG V=1\nFROM busybox:$V AS Build\nFROM build\n")
    assert df.meta_args[0].args == (("V", "1"),) and df.stage("BUILD").index == 0 and df.stage("1").index == 1


@pytest.mark.parametrize("text, env, expected", [
    ("$FOO", {"FOO": "bar"}, "bar"),
    ("${FOO}x", {"FOO": "bar"}, "barx"),
    ("${MISSING:-default}", {}, "default"),
    ("${EMPTY:-default}", {"EMPTY": ""}, "default"),
    ("${EMPTY-default}", {"EMPTY": ""}, ""),
    ("${FOO:+alt}", {"FOO": "x"}, "alt"),
    ("${FOO:+alt}", {}, ""),
    ("\\$FOO", {"FOO": "x"}, "$FOO"),
    ("'$FOO'", {"FOO": "x"}, "$FOO"),
    ('"$FOO and \\"q\\""', {"FOO": "x"}, 'x and "q"'),
    ("${FOO:-${BAR}}", {"BAR": "b"}, "b"),
    ("a$", {}, "a$"),
])
def test_substitution_table(text, env, expected):
    assert word(text, env) == expected


def test_words_and_errors():
    assert words('80 "$P" 53/udp', {"P": "8080 x"}) == ["80", "8080 x", "53/udp"]
    assert word("`$X", {"X": "1"}, escape="`") == "$X"
    with pytest.raises(SubstitutionError):
        word("${X:?must be set}", {})
    with pytest.raises(SubstitutionError):
        word("'open", {})


@pytest.mark.parametrize("patterns, path, excluded", [
    (["*.md"], "README.md", True),
    (["*.md"], "docs/README.md", False),
    (["**/*.md"], "docs/a/README.md", True),
    (["*.md", "!README.md"], "README.md", False),
    (["!README.md", "*.md"], "README.md", True),  # order matters: the last match wins
    (["temp?"], "temp1", True),
    (["build"], "build/out/x.o", True),  # a matching directory excludes what is below it
    (["/secret"], "secret", True),
    (["**"], "anything/at/all", True),
    (["docs", "!docs/keep.txt"], "docs/keep.txt", False),
])
def test_dockerignore_table(patterns, path, excluded):
    assert Matcher(patterns).matches(path) is excluded


def test_dockerignore_file_and_skipping():
    assert read_patterns("# c\n\n  a  \n!b\n") == ["a", "!b"]
    m = Matcher(["docs", "!docs/keep.txt"])
    assert not m.may_skip_dir("docs") and Matcher(["docs"]).may_skip_dir("docs")


@pytest.mark.parametrize("pattern, path, ok", [
    ("*.txt", "a.txt", True), ("*.txt", "d/a.txt", False), ("d/*.txt", "d/a.txt", True),
    ("file?.go", "file1.go", True), ("[a-c]x", "bx", True), ("[^a-c]x", "bx", False), ("\\*", "*", True),
])
def test_go_filepath_match(pattern, path, ok):
    assert bool(go_match_regex(pattern).match(path)) is ok
