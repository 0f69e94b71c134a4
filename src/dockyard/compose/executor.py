"""Carry out plans against dockyardd through ``APIClient`` (the Engine API, as Docker Compose does).

Networks ``<project>_<name>``, volumes ``<project>_<name>``, containers
``<project>-<service>-<n>``, all labelled as Docker Compose labels them.
Progress lines go to stderr in Compose v2's shape (`` Container x  Started``).
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Callable, Iterable
from typing import Any

from dockyard.client.api import APIClient
from dockyard.client.volumes import create_volume, inspect_volume, remove_volume
from dockyard.errors import Conflict, EngineError, NotFound

from .health import DependencyFailed, wait_condition
from .loader import Project
from .planner import Plan, dependency_order, deps_of, plan
from .scheduler import pool_size, run_graph
from .secrets import copy_in, plan as secrets_plan
from .waitall import COMPLETED, Target, service_conditions, wait_all
from .translate import (NETWORK, PROJECT, SERVICE, VERSION, VOLUME, COMPOSE_VERSION, ONEOFF, container_name,
                        create_body, endpoint, image_name, network_names)


class Executor:
    def __init__(self, api: APIClient, project: Project, out: Callable[[str], None] | None = None, *,
                 parallel: int | None = None) -> None:
        self.api, self.project = api, project
        self.parallel = parallel  # --parallel / COMPOSE_PARALLEL_LIMIT; None: unlimited
        raw = out or (lambda line: (sys.stderr.write(line + "\n"), sys.stderr.flush()))
        lock = threading.Lock()  # services start in parallel: one line at a time

        def locked(line: str) -> None:
            with lock:
                raw(line)

        self.out = locked

    def clone(self) -> Executor:
        """The same project on a connection of its own (``APIClient`` keeps one connection: one per thread)."""
        return Executor(APIClient(self.api.host, tls=getattr(self.api.transport, "_tls", None)), self.project,
                        self.out, parallel=self.parallel)

    @property
    def name(self) -> str:
        return self.project.name

    # -- reading ---------------------------------------------------------

    def containers(self, *, all: bool = True, oneoff: bool | None = False,
                   services: Iterable[str] | None = None) -> list[dict[str, Any]]:
        labels = [f"{PROJECT}={self.name}"]
        if oneoff is not None:
            labels.append(f"{ONEOFF}={'True' if oneoff else 'False'}")
        rows = self.api.containers(all=all, filters=json.dumps({"label": labels}))
        wanted = set(services or ())
        rows = [r for r in rows if not wanted or (r.get("Labels") or {}).get(SERVICE) in wanted]
        return sorted(rows, key=lambda r: (r["Labels"].get(SERVICE, ""), int(r["Labels"].get(
            "com.docker.compose.container-number", "0") or 0)))

    # -- resources ---------------------------------------------------------

    def ensure_networks(self, services: Iterable[str]) -> None:
        model = self.project.model
        used = {key for s in services for key in (model["services"][s].get("networks") or {})}
        for key, net in (model.get("networks") or {}).items():
            if key not in used:
                continue
            try:
                self.api.inspect_network(net["name"])
                continue
            except NotFound:
                if net.get("external"):
                    raise NotFound(f"network {net['name']} declared as external, but could not be found") from None
            labels = {**(net.get("labels") or {}), PROJECT: self.name, NETWORK: key, VERSION: COMPOSE_VERSION}
            body: dict[str, Any] = {"Name": net["name"], "Driver": net.get("driver") or "bridge",
                                    "Labels": labels, "CheckDuplicate": True,
                                    "Internal": bool(net.get("internal")), "Attachable": bool(net.get("attachable")),
                                    "EnableIPv6": bool(net.get("enable_ipv6"))}
            if net.get("driver_opts"):
                body["Options"] = {k: str(v) for k, v in net["driver_opts"].items()}
            ipam = net.get("ipam")
            if ipam:
                body["IPAM"] = {"Driver": ipam.get("driver", "default"), "Config": [
                    {{"subnet": "Subnet", "gateway": "Gateway", "ip_range": "IPRange"}.get(k, k): v
                     for k, v in c.items()} for c in ipam.get("config") or []]}
            self.out(f" Network {net['name']}  Creating")
            self.api.create_network(body)
            self.out(f" Network {net['name']}  Created")

    def ensure_volumes(self, services: Iterable[str]) -> None:
        model = self.project.model
        used = {v["source"] for s in services for v in (model["services"][s].get("volumes") or [])
                if v.get("type") == "volume" and v.get("source")}
        for key, vol in (model.get("volumes") or {}).items():
            if key not in used:
                continue
            try:
                inspect_volume(self.api, vol["name"])
                continue
            except NotFound:
                if vol.get("external"):
                    raise NotFound(f"external volume \"{vol['name']}\" not found") from None
            labels = {**(vol.get("labels") or {}), PROJECT: self.name, VOLUME: key, VERSION: COMPOSE_VERSION}
            self.out(f" Volume \"{vol['name']}\"  Creating")
            create_volume(self.api, {"Name": vol["name"], "Driver": vol.get("driver") or "local",
                                     "DriverOpts": {k: str(v) for k, v in (vol.get("driver_opts") or {}).items()},
                                     "Labels": labels})
            self.out(f" Volume \"{vol['name']}\"  Created")

    def image_id(self, service: str) -> str:
        try:
            return str(self.api.inspect_image(image_name(self.name, service, self.project.services[service]))["Id"])
        except NotFound:
            return ""

    def ensure_images(self, services: Iterable[str], *, build: bool = False, pull: str = "missing") -> dict[str, str]:
        from .build import build_service, pull_image

        ids: dict[str, str] = {}
        for s in services:
            svc = self.project.services[s]
            have = self.image_id(s)
            # The service's pull_policy, unless --pull asked for something other than the default.
            policy = str(svc.get("pull_policy") or pull) if pull == "missing" else pull
            if "build" in svc and (build or not have or policy == "build"):
                ids[s] = build_service(self.api, self.project, s, self.out)
            elif policy == "never" and not have:
                raise NotFound(f"image {image_name(self.name, s, svc)} not found and pull_policy is never")
            elif not have or policy == "always":
                pull_image(self.api, image_name(self.name, s, svc), self.out)
                ids[s] = self.image_id(s)
            else:
                ids[s] = have
        return ids

    # -- containers ----------------------------------------------------------

    def create(self, service: str, number: int) -> str:
        svc = self.project.services[service]
        cname = container_name(self.name, service, svc, number)
        body = create_body(self.project.model, service, number, working_dir=self.project.working_dir,
                           config_files=",".join(self.project.config_files))
        self.out(f" Container {cname}  Creating")
        cid = str(self.api.create_container(body, name=cname)["Id"])
        for net, opts in network_names(self.project.model, svc)[1:]:
            self.api.connect_network(net, cid, endpoint(service, opts, number))
        copy_in(self.api, cid, secrets_plan(self.project.model, service, self.project.env)[1])
        self.out(f" Container {cname}  Created")
        return cid

    def start(self, cid: str, label: str) -> None:
        self.out(f" Container {label}  Starting")
        self.api.start(cid)
        self.out(f" Container {label}  Started")

    def remove(self, cid: str, label: str, *, volumes: bool = False, timeout: int | None = None) -> None:
        self.out(f" Container {label}  Stopping")
        try:
            self.api.stop(cid, timeout=timeout)
        except NotFound:
            return
        except EngineError:
            pass  # already stopped (304) or stopping
        self.out(f" Container {label}  Stopped")
        self.out(f" Container {label}  Removing")
        try:
            self.api.remove_container(cid, force=True, volumes=volumes)
        except NotFound:
            pass
        self.out(f" Container {label}  Removed")

    def _own_client_remove(self, row: dict[str, Any], timeout: int | None) -> None:
        other = self.clone()
        try:
            other.remove(row["Id"], row["Names"][0].lstrip("/"), timeout=timeout)
        finally:
            other.api.close()

    def apply(self, p: Plan, *, start: bool = True, timeout: int | None = None) -> None:
        """Each service once its dependencies are started; independent services in parallel."""
        if len(p.order) <= 1:
            for service in p.order:
                self.apply_service(p, service, start=start, timeout=timeout)
            return

        def work(service: str) -> None:
            worker = self.clone()
            try:
                worker.apply_service(p, service, start=start, timeout=timeout)
            finally:
                worker.api.close()

        deps = {s: deps_of(self.project.services[s]) for s in p.order}
        run_graph(p.order, deps, work, max_workers=self.parallel)

    def apply_service(self, p: Plan, service: str, *, start: bool = True, timeout: int | None = None) -> None:
        services = self.project.services
        if start:
            self.wait_dependencies(service, p.order)
        # A kept container restarts when a dependency it declares `restart: true` on was recreated.
        restart = any((spec or {}).get("restart") and any(a.kind == "recreate" for a in p.actions.get(d, []))
                      for d, spec in (services[service].get("depends_on") or {}).items())
        for a in p.actions.get(service, []):
            cname = container_name(self.name, service, services[service], a.number)
            if a.kind == "keep" and restart and start:
                self.out(f" Container {cname}  Restarting")
                self.api.restart(a.container)
                self.out(f" Container {cname}  Started")
            elif a.kind == "keep":
                self.out(f" Container {cname}  Running")
            elif a.kind == "start":
                if start:
                    self.start(a.container, cname)
            elif a.kind == "remove":
                self.remove(a.container, cname, timeout=timeout)
            elif a.kind == "recreate":
                self.out(f" Container {cname}  Recreate")
                self.remove(a.container, cname, timeout=timeout)
                cid = self.create(service, a.number)
                if start:
                    self.start(cid, cname)
            else:
                cid = self.create(service, a.number)
                if start:
                    self.start(cid, cname)

    def wait_dependencies(self, service: str, order: list[str]) -> None:
        for dep, spec in (self.project.services[service].get("depends_on") or {}).items():
            if dep not in self.project.services or dep not in order:
                continue
            cond = spec.get("condition", "service_started")
            if cond == "service_started":
                continue
            for c in self.containers(services=[dep]):
                label = c["Names"][0].lstrip("/")
                self.out(f" Container {label}  Waiting")
                try:
                    wait_condition(self.api, c["Id"], label, cond, self.project.services[dep].get("healthcheck"))
                except DependencyFailed as exc:
                    if spec.get("required", True):
                        raise
                    # An optional dependency that failed is reported, not fatal (Compose's `required: false`).
                    self.out(f"WARN[0000] optional dependency {dep!r} of {service!r}: {exc}")
                    continue
                self.out(f" Container {label}  " + ("Healthy" if cond == "service_healthy" else "Exited"))

    # -- verbs ---------------------------------------------------------------

    def up(self, services: list[str] | None = None, *, no_deps: bool = False, build: bool = False,
           force_recreate: bool = False, no_recreate: bool = False, scale: dict[str, int] | None = None,
           remove_orphans: bool = False, no_start: bool = False, wait: bool = False,
           timeout: int | None = None, pull: str = "missing", wait_timeout: int = 0) -> Plan:
        order = dependency_order(self.project.services, services or None, not no_deps)
        ids = self.ensure_images(order, build=build, pull=pull)
        self.ensure_networks(order)
        self.ensure_volumes(order)
        p = plan(self.project.model, self.containers(), selected=services or None, with_deps=not no_deps,
                 scale=scale, force_recreate=force_recreate, no_recreate=no_recreate, image_ids=ids)
        for c in p.orphans:
            label = c["Names"][0].lstrip("/")
            if remove_orphans:
                self.remove(c["Id"], label, timeout=timeout)
            else:
                self.out(f"WARN[0000] Found orphan containers ([{label}]) for this project. If you removed or "
                         "renamed this service in your compose file, you can run this command with the "
                         "--remove-orphans flag to clean it up.")
        self.apply(p, start=not no_start, timeout=timeout)
        if wait:
            self.wait_services(p.order, timeout=wait_timeout)
        return p

    def wait_services(self, services: list[str], *, timeout: int = 0) -> None:
        """``up --wait``: all services' containers at once, each until running/healthy (or completed)."""
        conds = service_conditions(self.project.services)
        targets = [Target(c["Names"][0].lstrip("/"), c["Id"], s, conds[s])
                   for s in services for c in self.containers(services=[s])]
        wait_all(targets, self._wait_one, self.out, timeout=timeout)

    def _wait_one(self, t: Target, deadline: float | None, stop: threading.Event) -> str:
        worker = self.clone()  # one connection per waiting thread
        try:
            hc = self.project.services[t.service].get("healthcheck")
            if t.cond == COMPLETED:
                wait_condition(worker.api, t.cid, t.label, COMPLETED, hc, deadline=deadline, stop=stop)
                return "Exited"
            # Healthy when the container has a healthcheck (the service's or its image's), else running.
            test: list[str] = list(((worker.api.inspect_container(t.cid).get("Config") or {})
                                    .get("Healthcheck") or {}).get("Test") or [])
            has = bool(test) and test[0] != "NONE"
            if has and (not hc or hc.get("disable")):
                hc = {"test": test}
            cond = "service_healthy" if has else "running"
            wait_condition(worker.api, t.cid, t.label, cond, hc, deadline=deadline, stop=stop)
            return "Healthy"
        finally:
            worker.api.close()

    def down(self, *, volumes: bool = False, remove_orphans: bool = False, rmi: str = "",
             timeout: int | None = None) -> None:
        services = self.project.services
        rows = self.containers(oneoff=None)
        order = dependency_order(services)
        rank = {s: i for i, s in enumerate(order)}
        # Dependents first: reverse dependency order; orphans (unknown services) only with --remove-orphans.
        rows.sort(key=lambda r: -rank.get(r["Labels"].get(SERVICE, ""), -1))
        rows = [r for r in rows if r["Labels"].get(SERVICE) in services or remove_orphans
                or r["Labels"].get(ONEOFF) == "True"]
        # Stops run in parallel, as Docker Compose's do: each may wait out its grace period.
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=pool_size(self.parallel, len(rows))) as pool:
            for fut in [pool.submit(self._own_client_remove, r, timeout) for r in rows]:
                fut.result()
        for key, net in (self.project.model.get("networks") or {}).items():
            if net.get("external"):
                continue
            try:
                info = self.api.inspect_network(net["name"])
            except NotFound:
                continue
            if (info.get("Labels") or {}).get(PROJECT, self.name) != self.name:
                continue
            self.out(f" Network {net['name']}  Removing")
            try:
                self.api.remove_network(net["name"])
                self.out(f" Network {net['name']}  Removed")
            except Conflict as exc:
                self.out(f" Network {net['name']}  Error: {exc}")
        if volumes:
            for key, vol in (self.project.model.get("volumes") or {}).items():
                if vol.get("external"):
                    continue
                try:
                    remove_volume(self.api, vol["name"])
                    self.out(f" Volume {vol['name']}  Removed")
                except NotFound:
                    pass
        if rmi:
            seen = set()
            for s, svc in services.items():
                if rmi == "local" and "image" in svc:
                    continue
                img = image_name(self.name, s, svc)
                if img in seen:
                    continue
                seen.add(img)
                try:
                    self.api.remove_image(img)
                    self.out(f" Image {img}  Removed")
                except NotFound:
                    pass
