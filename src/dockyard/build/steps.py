"""One stage's steps: each instruction turns a ``State`` into the next (see ``executor``)."""

from __future__ import annotations

import email.utils
import hashlib
import json
import os
import posixpath
import tarfile
import urllib.parse
import urllib.request
from typing import TYPE_CHECKING, Any

from dockyard.build import cache, copier, runmounts, secrets
from dockyard.build.context import resolve_sources
from dockyard.build.dockerfile import ast
from dockyard.build.dockerfile.parser import parse_instruction
from dockyard.build.expand import word, words
from dockyard.build.state import RunRequest, State
from dockyard.core import reference
from dockyard.errors import InvalidArgument, NotFound, Unavailable
from dockyard.image import rootfs
from dockyard.image.compression import NONE, decompress
from dockyard.image.layers import apply_layer

if TYPE_CHECKING:
    from dockyard.build.executor import _Build

DEFAULT_SHELL = ["/bin/sh", "-c"]
_CONFIG_ONLY = ("ENV", "LABEL", "MAINTAINER", "EXPOSE", "VOLUME", "USER", "STOPSIGNAL", "SHELL", "CMD",
                "ENTRYPOINT", "HEALTHCHECK", "ONBUILD", "ARG")
_URL_LIMIT = 1 << 30


def normalise_tag(tag: str) -> str:
    r = reference.parse(tag)
    if r.digest:
        raise InvalidArgument(f"invalid reference format: {tag}: a build tag cannot hold a digest")
    return str(r)


class StageRunner:
    def __init__(self, build: "_Build", df: ast.Dockerfile, stage: ast.Stage, first_step: int) -> None:
        self.b = build
        self.df = df
        self.stage = stage
        self.step_no = first_step
        self.esc = df.escape
        self.args: dict[str, str] = {}  # ARGs declared in this stage, with their values

    def say(self, text: str) -> None:
        self.b.say(self.stage.index, text)

    def _step(self, instr: ast.Instruction) -> None:
        self.step_no += 1
        self.say(f"Step {self.step_no}/{self.b.total} : {instr.original}\n")

    # -- the stage --------------------------------------------------------------------------
    def run(self) -> State:
        base = self.stage.base
        self._step(base)
        ref = word(base.image, self.b.meta, self.esc)
        if not ref:
            raise InvalidArgument(f"{self.b.opts.filename}:{base.line}: base name ({base.image}) should not be blank")
        state = self.b.stage_state(self.df, ref, self.stage.index) or self.b.base_state(ref, self.stage.index)
        state.cmd_set = False
        self.say(f" ---> {state.short_id()}\n")
        triggers = list(state.run.pop("OnBuild", None) or [])
        if triggers:
            self.say(f"# Executing {len(triggers)} build trigger{'s' if len(triggers) > 1 else ''}\n")
            for text in triggers:
                state = self._do(parse_instruction(text, "ONBUILD", base.line, self.esc), state)
        for instr in self.stage.instructions:
            self._step(instr)
            state = self._do(instr, state)
        return state

    def _do(self, instr: ast.Instruction, state: State) -> State:
        try:
            if isinstance(instr, ast.Command) and instr.which == "RUN":
                new = self._run(instr, state)
            elif isinstance(instr, ast.Copy):
                new = self._copy(instr, state)
            elif isinstance(instr, ast.Words) and instr.which == "WORKDIR":
                new = self._workdir(instr, state)
            else:
                new = self._config_step(instr, state)
        except InvalidArgument as exc:
            if exc.message.startswith(f"{self.b.opts.filename}:") or isinstance(exc, _Failed):
                raise
            raise InvalidArgument(f"{self.b.opts.filename}:{instr.line}: {instr.kind}: {exc.message}") from exc
        except NotFound as exc:
            raise NotFound(f"{self.b.opts.filename}:{instr.line}: {instr.kind}: {exc.message}") from exc
        self.say(f" ---> {new.short_id()}\n")
        return new

    # -- substitution environment --------------------------------------------------------------
    def env(self, state: State) -> dict[str, str]:
        out = dict(self.args)
        for e in state.run.get("Env") or []:
            k, _, v = e.partition("=")
            out[k] = v
        return out

    def _effective_args(self, state: State) -> dict[str, str]:
        """Build args in a RUN's environment (those not overridden by ENV), proxies included."""
        env_keys = {e.partition("=")[0] for e in state.run.get("Env") or []}
        out = {k: v for k, v in self.args.items() if k not in env_keys}
        for k in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY", "ftp_proxy",
                  "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"):
            v = self.b.opts.build_args.get(k)
            if v is not None and k not in env_keys:
                out[k] = v
                self.b.used_args.add(k)
        return out

    # -- config-only steps -------------------------------------------------------------------------
    def _config_step(self, instr: ast.Instruction, state: State) -> State:
        env = self.env(state)
        text = self._describe(instr, env, state)
        key = cache.step_key(state.key, text, self._key_args(state))
        hit = self.b.cached(key)
        if hit is not None:
            self.say(" ---> Using cache\n")
            if isinstance(instr, ast.Arg):
                self._declare(instr, env)
            hit.cmd_set = state.cmd_set or (isinstance(instr, ast.Command) and instr.which == "CMD")
            return hit
        new = state.child(key)
        self._apply(instr, new, env)
        restored = self.b.cache_from_hit(state, f"/bin/sh -c #(nop)  {text}", key)
        if restored is not None:  # keeps the source's history entry, so later steps can match it too
            new.config["history"], new.config["created"] = restored.config["history"], restored.config.get("created")
            self.say(" ---> Using cache\n")
        else:
            self._history(new, f"/bin/sh -c #(nop)  {text}", empty=True)
        self.b.remember(new)
        return new

    def _key_args(self, state: State) -> dict[str, str]:
        return {k: v for k, v in self.args.items()}

    def _describe(self, instr: ast.Instruction, env: dict[str, str], state: State) -> str:
        """The instruction after substitution (what the history and the cache key record)."""
        if isinstance(instr, ast.KeyValues):
            if instr.which == "MAINTAINER":
                return f"MAINTAINER {instr.pairs[0][1]}"
            pairs = [(word(k, env, self.esc), word(v, env, self.esc)) for k, v in instr.pairs]
            return f"{instr.which} " + " ".join(f"{k}={json.dumps(v) if instr.which == 'LABEL' else v}"
                                                 for k, v in pairs)
        if isinstance(instr, ast.Words):
            vals = list(instr.json) if instr.json is not None else words(instr.text, env, self.esc)
            return f"{instr.which} " + (json.dumps(vals) if instr.which == "VOLUME" else " ".join(vals))
        if isinstance(instr, ast.Arg):
            return "ARG " + " ".join(n if d is None else f"{n}={word(d, env, self.esc)}" for n, d in instr.args)
        if isinstance(instr, ast.Command):
            return f"{instr.which} {json.dumps(self._argv(instr, state.run.get('Shell') or DEFAULT_SHELL))}"
        return instr.original

    def _apply(self, instr: ast.Instruction, st: State, env: dict[str, str]) -> None:
        run = st.run
        if isinstance(instr, ast.Arg):
            self._declare(instr, env)
        elif isinstance(instr, ast.KeyValues) and instr.which == "MAINTAINER":
            st.config["author"] = instr.pairs[0][1]
        elif isinstance(instr, ast.KeyValues) and instr.which == "ENV":
            items = [(word(k, env, self.esc), word(v, env, self.esc)) for k, v in instr.pairs]
            cur = list(run.get("Env") or [])
            for k, v in items:
                cur = [e for e in cur if e.partition("=")[0] != k] + [f"{k}={v}"]
            run["Env"] = cur
        elif isinstance(instr, ast.KeyValues):
            labels = dict(run.get("Labels") or {})
            labels.update((word(k, env, self.esc), word(v, env, self.esc)) for k, v in instr.pairs)
            run["Labels"] = labels
        elif isinstance(instr, ast.Words):
            vals = list(instr.json) if instr.json is not None else words(instr.text, env, self.esc)
            if instr.which == "EXPOSE":
                ports = dict(run.get("ExposedPorts") or {})
                for p in vals:
                    ports.update({k: {} for k in _ports(p)})
                run["ExposedPorts"] = ports
            elif instr.which == "VOLUME":
                vols = dict(run.get("Volumes") or {})
                for v in vals:
                    if not v.strip():
                        raise InvalidArgument("VOLUME specified can not be an empty string")
                    vols[v] = {}
                run["Volumes"] = vols
            elif instr.which == "USER":
                run["User"] = word(instr.text, env, self.esc)
            elif instr.which == "STOPSIGNAL":
                run["StopSignal"] = word(instr.text, env, self.esc)
        elif isinstance(instr, ast.Shell):
            run["Shell"] = list(instr.argv)
        elif isinstance(instr, ast.Command):
            argv = self._argv(instr, run.get("Shell") or DEFAULT_SHELL)
            if instr.which == "CMD":
                run["Cmd"] = argv
                st.cmd_set = True
            else:
                run["Entrypoint"] = argv
                if not st.cmd_set:
                    run["Cmd"] = None
        elif isinstance(instr, ast.Healthcheck):
            hc: dict[str, Any] = {"Test": list(instr.test)}
            for name, ns in (("Interval", instr.interval), ("Timeout", instr.timeout),
                             ("StartPeriod", instr.start_period), ("StartInterval", instr.start_interval),
                             ("Retries", instr.retries)):
                if ns:
                    hc[name] = ns
            run["Healthcheck"] = hc
        elif isinstance(instr, ast.OnBuild):
            run["OnBuild"] = [*(run.get("OnBuild") or []), instr.trigger]

    def _declare(self, instr: ast.Arg, env: dict[str, str]) -> None:
        given = self.b.opts.build_args
        for name, default in instr.args:
            if name in given and given[name] is not None:
                self.args[name] = given[name]  # type: ignore[assignment]
                self.b.used_args.add(name)
            elif default is not None:
                self.args[name] = word(default, env, self.esc)
            elif name in self.b.meta:
                self.args[name] = self.b.meta[name]

    def _argv(self, instr: ast.Command, shell: list[str]) -> list[str]:
        if isinstance(instr.args, tuple):
            return list(instr.args)
        text = instr.args
        if instr.heredocs:
            only = len(instr.heredocs) == 1 and text.strip().lstrip("0123456789").startswith("<<") and \
                len(text.split()) == 1
            if only:
                return [*shell, instr.heredocs[0].body]
            text = text + "\n" + "".join(h.body + h.name + "\n" for h in instr.heredocs)
        return [*shell, text]

    def _history(self, st: State, created_by: str, empty: bool) -> None:
        entry: dict[str, Any] = {"created": self.b.now(), "created_by": created_by}
        if empty:
            entry["empty_layer"] = True
        st.config["history"] = [*(st.config.get("history") or []), entry]
        st.config["created"] = entry["created"]

    # -- RUN -------------------------------------------------------------------------------------------
    def _run(self, instr: ast.Command, state: State) -> State:
        run = state.run
        mounts = [runmounts.parse(word(m, self.env(state), self.esc), run.get("WorkingDir") or "/")
                  for m in instr.mounts]
        argv = self._argv(instr, run.get("Shell") or DEFAULT_SHELL)
        args = self._effective_args(state)
        network = {"": self.b.opts.network, "default": self.b.opts.network}.get(instr.network, instr.network)
        prefix = f"|{len(args)} " + " ".join(f"{k}={v}" for k, v in sorted(args.items())) + " " if args else ""
        created_by = prefix + " ".join(argv)
        key = cache.step_key(state.key, "RUN " + json.dumps(argv), args,
                             extra={"network": network, "user": run.get("User") or "",
                                    "workdir": run.get("WorkingDir") or "", **self._mounts_key(mounts)})
        hit = self.b.cached(key) or self.b.cache_from_hit(state, created_by, key)
        if hit is not None:
            self.say(" ---> Using cache\n")
            hit.cmd_set = state.cmd_set
            return hit
        env = [f"{k}={v}" for k, v in sorted(args.items())] + list(run.get("Env") or [])
        secret_values = self.b.opts.secrets
        secrets.check(mounts, secret_values)
        secret_env = secrets.env_of(mounts, secret_values)
        if secret_env:  # the secret replaces a variable of the same name
            names = {e.split("=", 1)[0] for e in secret_env}
            env = [e for e in env if e.split("=", 1)[0] not in names] + secret_env
        image_id = self.b.materialise(state)
        try:
            with runmounts.realise(mounts, context=self.b.context, fs_of=self._fs_of_ref,
                                   caches=self.b.b.cache_mounts, scratch=self.b.tmp, secrets=secret_values,
                                   secrets_dir=self.b.b.secrets_dir(self.b.id),
                                   secrets_owner=self.b.b.secrets_owner) as host_mounts:
                req = RunRequest(tuple(argv), tuple(env), run.get("WorkingDir") or "", run.get("User") or "",
                                 network or "bridge", self.b.id, tuple(host_mounts))
                code, blob = self.b.b.runner.run(
                    image_id, req, lambda data: self.say(data.decode("utf-8", "replace")),
                    lambda cid: self.say(f" ---> Running in {cid[:12]}\n"))
        finally:
            self.b.release(image_id)
        if code != 0:
            raise _Failed(f"The command '{' '.join(argv)}' returned a non-zero code: {code}", code)
        new = state.child(key)
        if blob is not None:
            new.layers.append(blob)
            new.config["rootfs"] = {"type": "layers", "diff_ids": [*state.diff_ids, blob]}
        self._history(new, created_by, empty=blob is None)
        self.b.remember(new)
        return new

    def _fs_of_ref(self, ref: str) -> str:
        """The merged filesystem of a stage or image named ``ref`` (RUN --mount from=)."""
        other = self.b.stage_state(self.df, ref, self.stage.index) or self.b.base_state(ref, self.stage.index)
        return self.b.fs_of(other)

    def _mounts_key(self, mounts: list[runmounts.RunMount]) -> dict[str, Any]:
        """RUN --mount's part of the cache key: the specs, and the content of bind sources."""
        if not mounts:
            return {}  # keys of RUNs without mounts stay what they were
        out = []
        for m in mounts:
            entry = m.key()
            if m.type == "bind":
                root = self._fs_of_ref(m.from_) if m.from_ else self.b.context
                entry["content"] = runmounts.tree_digest(runmounts.inside(root, m.source or "/"))
            out.append(entry)
        return {"mounts": out}

    # -- COPY / ADD / WORKDIR --------------------------------------------------------------------------
    def _workdir(self, instr: ast.Words, state: State) -> State:
        env = self.env(state)
        path = posixpath.normpath(posixpath.join(state.run.get("WorkingDir") or "/", word(instr.text, env, self.esc)))
        key = cache.step_key(state.key, f"WORKDIR {path}")
        hit = self.b.cached(key)
        if hit is not None:
            self.say(" ---> Using cache\n")
            hit.cmd_set = state.cmd_set
            return hit
        hit = self.b.cache_from_hit(state, f"/bin/sh -c #(nop) WORKDIR {path}", key)
        if hit is not None:
            self.say(" ---> Using cache\n")
            hit.run["WorkingDir"] = path
            self.b.remember(hit)
            return hit
        new = state.child(key)
        new.run["WorkingDir"] = path
        dirs = self.b.layer_dirs(state)
        plan = copier.Plan(lambda p: rootfs.lookup(dirs, list(p)))
        plan.add_dir(tuple(rootfs.resolve_prefix(dirs, path)) if dirs else tuple(p for p in path.split("/") if p))
        return self._commit_plan(new, state, plan, f"/bin/sh -c #(nop) WORKDIR {path}")

    def _copy(self, instr: ast.Copy, state: State) -> State:
        env = self.env(state)
        srcs = [word(s, env, self.esc) for s in instr.sources]
        dest = word(instr.dest, env, self.esc)
        from_ = word(instr.from_, env, self.esc) if instr.from_ else ""
        chmod = None
        if instr.chmod:
            try:
                chmod = int(instr.chmod, 8)
            except ValueError:
                raise InvalidArgument(f"invalid chmod parameter {instr.chmod!r}: use an octal mode") from None
        dirs = self.b.layer_dirs(state)
        owner = _owner(word(instr.chown, env, self.esc), dirs) if instr.chown else None
        plan = copier.Plan(lambda p: rootfs.lookup(dirs, list(p)) if dirs else None, owner, chmod)
        workdir = state.run.get("WorkingDir") or "/"
        full = posixpath.join(workdir, dest)
        as_dir = dest.endswith("/") or dest in (".", "./") or dest.endswith("/.")
        parts = tuple(rootfs.resolve_prefix(dirs, full)) if dirs else tuple(p for p in posixpath.normpath(full).split("/") if p)
        if instr.heredocs:
            for h in instr.heredocs:
                body = word_heredoc(h.body, env, self.esc) if h.expand else h.body
                plan.add_data(parts + (h.name,) if as_dir else parts, body.encode())
        else:
            root = self.b.context
            if from_:
                other = self.b.stage_state(self.df, from_, self.stage.index) or self.b.base_state(from_, self.stage.index)
                root = self.b.fs_of(other)
            found: list[str] = []
            for s in srcs:
                if instr.add and s.startswith(("http://", "https://")):
                    found.append(s)
                    continue
                found.extend(resolve_sources(root, s))
            into = as_dir or len(found) > 1
            if len(found) > 1 and not as_dir:
                raise InvalidArgument("When using COPY with more than one source file, the destination must be a directory and end with a /")
            for rel in found:
                if rel.startswith(("http://", "https://")):
                    self._add_url(plan, rel, parts, as_dir, instr.checksum)
                elif instr.add and not from_ and self._add_archive(plan, root, rel, parts):
                    continue
                else:
                    plan.add_path(root, rel, parts, into)
        text = f"{instr.kind} {'--from=' + from_ + ' ' if from_ else ''}{' '.join(srcs)} {dest}".strip()
        key = cache.step_key(state.key, text, inputs=cache.inputs_key(plan.inputs()),
                             extra={"chown": instr.chown, "chmod": instr.chmod})
        hit = self.b.cached(key)
        if hit is not None:
            self.say(" ---> Using cache\n")
            hit.cmd_set = state.cmd_set
            return hit
        digest = hashlib.sha256(repr(plan.inputs()).encode()).hexdigest()
        what = "dir" if len(plan.items) > 1 else "file"
        created_by = f"/bin/sh -c #(nop) {instr.kind} {what}:{digest} in {'/' + '/'.join(parts)} "
        hit = self.b.cache_from_hit(state, created_by, key)
        if hit is not None:
            self.say(" ---> Using cache\n")
            hit.cmd_set = state.cmd_set
            return hit
        return self._commit_plan(state.child(key), state, plan, created_by)

    def _commit_plan(self, new: State, state: State, plan: copier.Plan, created_by: str) -> State:
        if plan.items:
            blob = self.b.b.transfer.store_layer(plan.layer_chunks())
            new.layers.append(blob)
            new.config["rootfs"] = {"type": "layers", "diff_ids": [*state.diff_ids, blob]}
        self._history(new, created_by, empty=not plan.items)
        self.b.remember(new)
        return new

    def _add_archive(self, plan: copier.Plan, root: str, rel: str, dest: tuple[str, ...]) -> bool:
        """ADD of a local (compressed) tar: extracted into ``dest``; False when ``rel`` is no archive."""
        path = copier.scoped(root, rel)
        if not os.path.isfile(path) or os.path.islink(path):
            return False
        with open(path, "rb") as f:
            kind, stream = decompress(f)
            head = b""
            while len(head) < 512 and (more := stream.read(512 - len(head))):  # raw streams may read short
                head += more
        if kind == NONE and not (len(head) == 512 and _is_tar_header(head)):
            return False
        if kind != NONE and not tarfile.is_tarfile(path):
            return False
        target = os.path.join(self.b.tmp, f"add-{os.urandom(6).hex()}")
        os.mkdir(target)
        with open(path, "rb") as f:
            _, stream = decompress(f)
            apply_layer(stream, target)
        plan._parents(dest, include_self=True)
        plan._tree(target, dest, keep=True)
        return True

    def _add_url(self, plan: copier.Plan, url: str, dest: tuple[str, ...], as_dir: bool, checksum: str) -> None:
        try:
            with urllib.request.urlopen(url, timeout=60) as resp:
                data = resp.read(_URL_LIMIT + 1)
                modified = resp.headers.get("Last-Modified")
        except OSError as exc:
            raise Unavailable(f"failed to download {url}: {getattr(exc, 'reason', exc)}") from None
        if len(data) > _URL_LIMIT:
            raise InvalidArgument(f"{url}: download larger than 1 GiB")
        if checksum:
            algo, _, want = checksum.partition(":")
            if algo != "sha256" or not want:
                raise InvalidArgument(f"unsupported checksum {checksum!r}: use sha256:<hex>")
            got = hashlib.sha256(data).hexdigest()
            if got != want:
                raise InvalidArgument(f"digest mismatch for {url}: expected sha256:{want}, got sha256:{got}")
        name = posixpath.basename(urllib.parse.urlsplit(url).path) or "download"
        mtime = 0
        if modified:
            try:
                mtime = int(email.utils.parsedate_to_datetime(modified).timestamp())
            except (TypeError, ValueError):
                mtime = 0
        plan.add_data(dest + (name,) if as_dir else dest, data, mode=0o600, mtime=mtime)


class _Failed(InvalidArgument):
    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def word_heredoc(body: str, env: dict[str, str], esc: str) -> str:
    """Heredoc bodies expand ``$VAR`` but keep quotes (a shell here-document's rules)."""
    out, i = [], 0
    while i < len(body):
        c = body[i]
        if c == esc and i + 1 < len(body) and body[i + 1] in "$" + esc:
            out.append(body[i + 1])
            i += 2
        elif c == "$":
            j = i + 1
            if j < len(body) and body[j] == "{":
                end = body.find("}", j)
                if end < 0:
                    out.append(c)
                    i += 1
                    continue
                out.append(word(body[i:end + 1], env, esc))
                i = end + 1
            else:
                while j < len(body) and (body[j].isalnum() or body[j] == "_"):
                    j += 1
                out.append(env.get(body[i + 1:j], "") if j > i + 1 else "$")
                i = j
        else:
            out.append(c)
            i += 1
    return "".join(out)


def _ports(spec: str) -> list[str]:
    port, _, proto = spec.partition("/")
    proto = (proto or "tcp").lower()
    lo, sep, hi = port.partition("-")
    if not lo.isdigit() or (sep and not hi.isdigit()):
        raise InvalidArgument(f"invalid containerPort: {port}")
    if sep:
        return [f"{p}/{proto}" for p in range(int(lo), int(hi) + 1)]
    return [f"{int(lo)}/{proto}"]


def _is_tar_header(block: bytes) -> bool:
    try:
        tarfile.TarInfo.frombuf(block, "utf-8", "surrogateescape")
        return True
    except tarfile.HeaderError:
        return False


def _owner(spec: str, dirs: list[str]) -> copier.Owner:
    user, _, group = spec.partition(":")

    def lookup(name: str, path: str, what: str) -> int:
        if name.isdigit():
            return int(name)
        data = rootfs.read_file(dirs, path) if dirs else None
        for line in (data or b"").decode("utf-8", "replace").splitlines():
            fields = line.split(":")
            if len(fields) >= 3 and fields[0] == name and fields[2].isdigit():
                return int(fields[2])
        raise InvalidArgument(f"unable to convert uid/gid chown string to host mapping: can't find {what} {name!r}")

    uid = lookup(user, "etc/passwd", "uid for user")
    gid = lookup(group, "etc/group", "gid for group") if group else uid
    if not group and not user.isdigit():
        data = rootfs.read_file(dirs, "etc/passwd") if dirs else None
        for line in (data or b"").decode("utf-8", "replace").splitlines():
            f = line.split(":")
            if len(f) >= 4 and f[0] == user and f[3].isdigit():
                gid = int(f[3])
    return copier.Owner(uid, gid)

