from dockyard.cli.render import ellipsis, go_quote, images_table, ports_text, ps_table, split_repo_tag, table

NOW = 1_700_000_100.0


def test_empty_ps_header_matches_docker():
    assert ps_table([], NOW) == "CONTAINER ID   IMAGE     COMMAND   CREATED   STATUS    PORTS     NAMES\n"


def test_ps_rows():
    c = {"Id": "a" * 64, "Image": "busybox", "Command": "sh -c 'echo hello world; sleep 10'",
         "Created": NOW - 2, "Status": "Up 1 second", "Ports": [], "Names": ["/web", "/other/link"]}
    out = ps_table([c], NOW).splitlines()
    assert out[0] == "CONTAINER ID   IMAGE     COMMAND                  CREATED         STATUS        PORTS     NAMES"
    assert out[1] == 'aaaaaaaaaaaa   busybox   "sh -c \'echo hello w…"   2 seconds ago   Up 1 second             web'
    full = ps_table([c], NOW, trunc=False).splitlines()[1]
    assert full.startswith("a" * 64 + "   ") and "sleep 10'\"" in full


def test_table_min_width_and_padding():
    assert table(["A", "B"], [["x" * 12, "y"]]) == "A" + " " * 14 + "B\n" + "x" * 12 + "   y\n"


def test_cells():
    assert ellipsis("abc", 20) == "abc" and ellipsis("x" * 25, 20) == "x" * 19 + "…"
    assert go_quote('say "hi"\n') == '"say \\"hi\\"\\n"'
    assert ports_text([{"IP": "0.0.0.0", "PrivatePort": 80, "PublicPort": 8080, "Type": "tcp"},
                       {"IP": "::", "PrivatePort": 80, "PublicPort": 8080, "Type": "tcp"},
                       {"PrivatePort": 53, "Type": "udp"}]) == "0.0.0.0:8080->80/tcp, [::]:8080->80/tcp, 53/udp"
    assert split_repo_tag("localhost:5000/app") == ("localhost:5000/app", "<none>")
    assert split_repo_tag("localhost:5000/app:v1") == ("localhost:5000/app", "v1")


def test_images_table():
    imgs = [{"Id": "sha256:" + "ab" * 32, "RepoTags": ["busybox:latest", "busybox:1.36"], "Created": NOW - 3 * 86400, "Size": 4261550},
            {"Id": "sha256:" + "cd" * 32, "RepoTags": None, "Created": NOW - 7200, "Size": 999}]
    assert images_table(imgs, NOW).splitlines() == [
        "REPOSITORY   TAG       IMAGE ID       CREATED       SIZE",
        "busybox      latest    abababababab   3 days ago    4.26MB",
        "busybox      1.36      abababababab   3 days ago    4.26MB",
        "<none>       <none>    cdcdcdcdcdcd   2 hours ago   999B",
    ]
