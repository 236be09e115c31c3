"""Apply many Chargers and Subscriptions and time the operator bringing live chargers to them: a benchmark.

Every part is real and runs on this machine: etcd and kube-apiserver (``chargeops.devcluster``, as
``chargeops dev cluster`` and the tests start them) with the repository's CRDs, the gateway (``chargeops
gateway`` on a SQLite file), the operator (``chargeops operator`` as its own process, admin kubeconfig, so
its memory and CPU can be read), and simulated chargers (``chargeops.simulator`` stations in
``charger_fleet`` worker processes). The script:

1. starts them, applies a Site, a Tariff and the chargers' password Secret, and waits until the operator
   has marked the Site Ready (so the clock does not run while kopf starts);
2. applies ``--chargers`` pay-per-month Chargers (approved) and ``--subscriptions`` Subscriptions, each
   covering one group of chargers by label, by server-side apply over HTTP (``--apply-concurrency``
   requests in flight) or ``kubectl apply --server-side`` of one big file; the simulated chargers power up
   when the apply is done (``--fleet-start after-apply``: those the operator has not handed to the gateway
   yet are refused and retry with backoff), before it, or once every desired state is in the gateway
   (``after-pushed``, which times the operator's hand-over apart from the gateway's connection work);
3. waits until every Charger is Ready at its current generation, noting when the operator had handed
   every desired state to the gateway (the Charger's status shows Connected), when all chargers were
   online and when all held the subscribers' id tags in their local lists (observed at the chargers), and
   counting what the operator asked of the API server meanwhile: requests by verb and resource from the
   API server's own ``apiserver_request_total``, the benchmark's own taken out (``convergence_requests``),
   and the Events the namespace then holds, by reason;
4. measures ``--steady-s`` seconds of the Ready fleet doing nothing: CPU per process and Charger writes;
5. makes ``--changes`` changes one after another, each to a random Charger's ``spec.configuration``
   (``MeterValueSampleInterval``) or a random Subscription's ``spec.idTags``, and times each from the
   PATCH until the charger holds the new value (all covered chargers for a Subscription), and, for a
   Charger change, until its status is Ready again at the new generation.

It prints a table and, as its last line, the same figures as one JSON document (with the operator's own
handler and gateway-request counters from its /metrics). Timing is what it reports, never what it
asserts. ``--py-spy DIR`` profiles the operator and the gateway until all are Ready.

    .venv/bin/python bench/operator_convergence.py --chargers 1000 --changes 40
    .venv/bin/python bench/operator_convergence.py --chargers 1000 --changes 40 --fleet-start after-pushed
    .venv/bin/python bench/operator_convergence.py --chargers 300 --py-spy /tmp/prof --py-spy-format raw
"""

import argparse
import asyncio
import contextlib
import json
import math
import os
import random
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import charger_fleet
import convergence_processes as processes
import convergence_requests as requests
import convergence_workload as workload
import kube_api

from chargeops.devcluster import checkout, controlplane
from chargeops.simulator import fleet

PROGRESS_EVERY_S = 10.0


async def apply_all(
    kube: kube_api.Kube, objects: list[dict[str, Any]], *, plane: controlplane.ControlPlane, args: argparse.Namespace
) -> float:
    """Apply ``objects`` as ``--apply-with`` says; the seconds it took."""
    started = time.time()
    if args.apply_with == "kubectl":
        manifest = json.dumps({"apiVersion": "v1", "kind": "List", "items": objects})
        await asyncio.to_thread(plane.kubectl, "apply", "--server-side", "-f", "-", input=manifest, timeout_s=3600)
        return time.time() - started
    pending = iter(objects)
    done = 0

    async def apply_some() -> None:
        nonlocal done
        for obj in pending:
            await kube.apply(obj)
            done += 1
            if done % 2000 == 0:
                progress(f"applied {done}/{len(objects)} ({done / (time.time() - started):.0f}/s)", args)

    await asyncio.gather(*(apply_some() for _ in range(args.apply_concurrency)))
    return time.time() - started


async def wait_site_ready(kube: kube_api.Kube, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        site = await kube.get("Site", workload.SITE)
        if site is not None and kube_api.is_ready(site):
            return
        await asyncio.sleep(0.2)
    raise RuntimeError(f"the operator did not mark Site {workload.SITE} Ready within {timeout_s} s; see operator.log")


async def converge(
    plan: workload.Layout,
    fleets: charger_fleet.Fleets,
    tracker: kube_api.ReadyTracker,
    *,
    started: float,
    watched: processes.Watched,
    args: argparse.Namespace,
) -> dict[str, Any]:
    """Wait until every Charger is Ready (or ``--ready-timeout``); phase times from ``started``."""
    total = len(plan.charge_point_ids)
    marks: dict[str, float | None] = {
        "all_pushed_to_gateway_s": None,
        "all_online_s": None,
        "all_configured_at_charger_s": None,
    }
    peaks: dict[str, float] = {}
    deadline = started + args.ready_timeout
    last_progress = 0.0
    while len(tracker.ready) < total and time.time() < deadline:
        await asyncio.sleep(0.5)
        now = time.time()
        if marks["all_pushed_to_gateway_s"] is None and len(tracker.first_pushed_at) == total:
            marks["all_pushed_to_gateway_s"] = round(max(tracker.first_pushed_at.values()) - started, 1)
            if args.fleet_start == "after-pushed":
                fleets.start()
        if marks["all_online_s"] is None and fleets.total("online") == total:
            marks["all_online_s"] = round(now - started, 1)
        if marks["all_configured_at_charger_s"] is None and fleets.total("configured") == total:
            at = fleets.last_configured_at() or now
            marks["all_configured_at_charger_s"] = round(at - started, 1)
        for name, value in watched.memory("VmRSS").items():
            peaks[name] = max(peaks.get(name, 0.0), value or 0.0)
        if now - last_progress >= PROGRESS_EVERY_S:
            last_progress = now
            progress(
                f"{now - started:6.0f} s  Ready {len(tracker.ready)}/{total}  "
                f"handed over {len(tracker.first_pushed_at)}  online {fleets.total('online')}  "
                f"configured at charger {fleets.total('configured')}  401s {fleets.total('auth_failures')}  "
                f"load {os.getloadavg()[0]:.1f}",
                args,
            )
    finished = time.time()
    ready_times = sorted(tracker.first_ready_at.values())
    half = math.ceil(total / 2)
    if marks["all_configured_at_charger_s"] is None and fleets.total("configured") == total:
        marks["all_configured_at_charger_s"] = round((fleets.last_configured_at() or finished) - started, 1)
    if marks["all_online_s"] is None and fleets.total("online") == total:
        marks["all_online_s"] = round(finished - started, 1)
    return {
        "ready": len(tracker.ready),
        "all_ready_s": round(finished - started, 1) if len(tracker.ready) == total else None,
        "half_ready_s": round(ready_times[half - 1] - started, 1) if len(ready_times) >= half else None,
        **marks,
        "online": fleets.total("online"),
        "configured_at_charger": fleets.total("configured"),
        "charger_401s": fleets.total("auth_failures"),
        "rss_peak_sampled_mib": peaks,
        "charger_writes": dict(tracker.events),
        # What the writes until Ready changed, most often first (a Charger's spec counts once, when added).
        "changed_fields": dict(tracker.changed_fields.most_common(20)),
        "ready_lost_by_reason": dict(tracker.lost),
        "not_ready_sample": _not_ready_sample(tracker),
    }


async def steady_state(
    tracker: kube_api.ReadyTracker, watched: processes.Watched, args: argparse.Namespace
) -> dict[str, Any]:
    """What N Ready chargers cost while nothing changes: CPU per process (% of one core), Charger writes/s."""
    progress(f"measuring {args.steady_s:.0f} s of steady state", args)
    cpu_before, writes_before, lost_before = watched.cpu(), tracker.events["MODIFIED"], sum(tracker.lost.values())
    fields_before = tracker.changed_fields.copy()
    started = time.time()
    await asyncio.sleep(args.steady_s)
    seconds = time.time() - started
    used = processes.cpu_delta(cpu_before, watched.cpu())
    return {
        "window_s": round(seconds, 1),
        "cpu_percent": {name: round(100 * value / seconds, 1) for name, value in used.items()},
        "charger_writes_per_s": round((tracker.events["MODIFIED"] - writes_before) / seconds, 1),
        "ready_lost": sum(tracker.lost.values()) - lost_before,
        # What those writes changed, most often first: status noise shows here.
        "changed_fields": dict((tracker.changed_fields - fields_before).most_common(12)),
        "ready_at_end": len(tracker.ready),
    }


def _not_ready_sample(tracker: kube_api.ReadyTracker) -> dict[str, Any] | None:
    """The status of one Charger that is not Ready, to tell why."""
    for name, obj in tracker.latest.items():
        if name not in tracker.ready:
            status = obj.get("status") or {}
            conditions = {
                c["type"]: f"{c['status']} {c.get('reason')}: {c.get('message')}"
                for c in status.get("conditions") or []
            }
            return {
                "name": name,
                "generation": obj["metadata"].get("generation"),
                "observedGeneration": status.get("observedGeneration"),
                "conditions": conditions,
            }
    return None


async def make_changes(
    kube: kube_api.Kube,
    plan: workload.Layout,
    fleets: charger_fleet.Fleets,
    tracker: kube_api.ReadyTracker,
    args: argparse.Namespace,
) -> dict[str, Any]:
    """``--changes`` changes one after another; latency to the charger and to Ready status."""
    rng = random.Random(args.seed)  # noqa: S311 - picks chargers, not secrets
    kinds = {"configuration": ["configuration"], "id-tags": ["id-tags"], "mixed": ["configuration", "id-tags"]}
    cycle = kinds[args.change_kind] if plan.subscriptions else ["configuration"]
    to_charger: dict[str, list[float]] = {kind: [] for kind in cycle}
    first_charger: list[float] = []
    status_waits: list[tuple[float, asyncio.Future[float]]] = []
    timeouts = 0
    fan_out: list[int] = []
    for change in range(args.changes):
        kind = cycle[change % len(cycle)]
        if kind == "configuration":
            cp_id = rng.choice(plan.charge_point_ids)
            value = str(100 + change)
            arrivals = await fleets.watch(
                change, {plan.worker_of(cp_id): [cp_id]}, kind="configuration", key=workload.CHANGED_KEY, value=value
            )
            started = time.time()
            patched = await kube.merge_patch(
                "Charger",
                plan.name(cp_id),
                {"spec": {"configuration": [{"key": workload.CHANGED_KEY, "value": value}]}},
            )
            status_waits.append((started, tracker.wait_generation(plan.name(cp_id), patched["metadata"]["generation"])))
        else:
            k = rng.randrange(plan.subscriptions)
            covered = plan.covered_by(k)
            tag = f"CHG{change:06d}"
            by_worker: dict[int, list[str]] = {}
            for cp_id in covered:
                by_worker.setdefault(plan.worker_of(cp_id), []).append(cp_id)
            arrivals = await fleets.watch(change, by_worker, kind="id-tag", tag=tag)
            started = time.time()
            await kube.merge_patch("Subscription", f"sub-{k:05d}", {"spec": {"idTags": [f"T{k}-CARD", tag]}})
            fan_out.append(len(covered))
        try:
            reports = await asyncio.wait_for(asyncio.gather(*arrivals), args.change_timeout)
        except TimeoutError:
            timeouts += 1
            progress(f"change {change} ({kind}) did not arrive within {args.change_timeout} s", args)
            continue
        times = [at for report in reports for at in report["at"].values()]
        to_charger[kind].append(max(times) - started)
        first_charger.append(min(times) - started)
    status: list[float] = []
    for started, future in status_waits:
        with contextlib.suppress(TimeoutError):
            left = max(0.1, started + args.change_timeout - time.time())
            status.append(await asyncio.wait_for(future, left) - started)
    every = [latency for latencies in to_charger.values() for latency in latencies]
    return {
        "changes": args.changes,
        "arrived": len(every),
        "timeouts": timeouts,
        "to_charger_s": percentiles(every),
        "to_charger_by_kind_s": {kind: percentiles(values) for kind, values in to_charger.items()},
        "to_first_charger_s": percentiles(first_charger),
        "subscription_fan_out": max(fan_out, default=0),
        "to_status_ready_s": percentiles(status),
    }


def percentiles(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"n": 0, "p50": None, "p90": None, "p99": None, "max": None}
    ordered = sorted(values)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)], 3)

    return {"n": len(ordered), "p50": at(0.50), "p90": at(0.90), "p99": at(0.99), "max": round(ordered[-1], 3)}


async def run(args: argparse.Namespace) -> dict[str, Any]:
    """Start everything, apply, converge, change; the figures as one document."""
    fleet.raise_open_file_limit()
    document: dict[str, Any] = {
        "command": " ".join(["python", *sys.argv]),
        "chargers": args.chargers,
        "subscriptions": args.subscriptions,
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }
    with tempfile.TemporaryDirectory(prefix="chargeops-opbench-") as workdir_name:
        workdir = Path(workdir_name)
        children: list[processes.Child] = []
        try:
            progress("starting etcd and kube-apiserver", args)
            plane = await asyncio.to_thread(controlplane.ControlPlane.start)
            try:
                await asyncio.to_thread(plane.apply_crds, checkout.crds_dir())
                await asyncio.to_thread(processes.wait_served, plane)
                namespace = await asyncio.to_thread(plane.create_namespace, args.namespace)
                gateway, gateway_ws, control_url, token_file = processes.start_gateway(workdir, args)
                children.append(gateway)
                operator = processes.start_operator(
                    workdir, plane, control_url=control_url, token_file=token_file, args=args
                )
                children.append(operator)
                document.update(
                    await _measure(args, plane, namespace, gateway=gateway, operator=operator, gateway_ws=gateway_ws)
                )
            finally:
                for child in reversed(children):
                    child.stop()
                for child in children:
                    problems, samples = processes.log_problems(child.log_path)
                    document[f"{child.name}_log_problems"] = problems
                    document[f"{child.name}_log_samples"] = samples
                    if args.keep_logs:
                        args.keep_logs.mkdir(parents=True, exist_ok=True)
                        shutil.copy(child.log_path, args.keep_logs / child.log_path.name)
                await asyncio.to_thread(plane.stop)
        finally:
            for child in children:
                child.stop()
    document["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    return document


async def _after_ready(
    kube: kube_api.Kube,
    plan: workload.Layout,
    fleets: charger_fleet.Fleets,
    tracker: kube_api.ReadyTracker,
    *,
    watched: processes.Watched,
    requests_ready: requests.Reading,
    args: argparse.Namespace,
) -> dict[str, Any]:
    """The Ready fleet's idle cost, then the changes, each with the API server requests it caused."""
    result: dict[str, Any] = {}
    if args.steady_s > 0:
        result["steady"] = await steady_state(tracker, watched, args)
        result["steady"]["apiserver_requests"] = requests.others(requests_ready, await requests.read(kube))
    if args.changes:
        progress(f"making {args.changes} changes", args)
        changes_started, cpu_before, requests_before = time.time(), watched.cpu(), await requests.read(kube)
        result["change"] = await make_changes(kube, plan, fleets, tracker, args)
        result["change"]["apiserver_requests"] = requests.others(requests_before, await requests.read(kube))
        result["change"]["window_s"] = round(time.time() - changes_started, 1)
        result["cpu_s_during_changes"] = processes.cpu_delta(cpu_before, watched.cpu())
    return result


async def _measure(
    args: argparse.Namespace,
    plane: controlplane.ControlPlane,
    namespace: str,
    *,
    gateway: processes.Child,
    operator: processes.Child,
    gateway_ws: str,
) -> dict[str, Any]:
    result: dict[str, Any] = {}
    kube = kube_api.Kube(plane, namespace, concurrency=args.apply_concurrency)
    plan = workload.layout(args, gateway_ws)
    fleets = charger_fleet.Fleets(plan.workers)
    tracker = kube_api.ReadyTracker()
    follower = asyncio.create_task(kube_api.follow(kube, tracker))
    try:
        operator_started = time.time()
        for obj in workload.base_objects(namespace):
            await kube.apply(obj)
        await wait_site_ready(kube, 120)
        result["operator_start_s"] = round(time.time() - operator_started, 1)
        objects = workload.workload_objects(plan, namespace)
        watched = processes.Watched(
            {
                "operator": [operator.process.pid],
                "gateway": [gateway.process.pid],
                "kube-apiserver": [plane.pids["kube-apiserver"]],
                "etcd": [plane.pids["etcd"]],
                "fleet": fleets.pids,
                "bench": [os.getpid()],
            }
        )
        cpu_start = watched.cpu()
        requests_start = await requests.read(kube)
        progress(
            f"applying {len(objects)} objects ({args.chargers} Chargers, {args.subscriptions} Subscriptions)", args
        )
        started = time.time()
        if args.fleet_start == "before-apply":
            fleets.start()
        with processes.py_spy(
            {"operator": operator.process.pid, "gateway": gateway.process.pid},
            args.py_spy,
            output_format=args.py_spy_format,
        ):
            result["apply_s"] = round(await apply_all(kube, objects, plane=plane, args=args), 1)
            result["applied_objects"] = len(objects)
            if args.fleet_start == "after-apply":
                fleets.start()
            progress(f"applied in {result['apply_s']} s; waiting for Ready", args)
            result["convergence"] = await converge(plan, fleets, tracker, started=started, watched=watched, args=args)
        cpu_ready, requests_ready = watched.cpu(), await requests.read(kube)
        result["cpu_s_until_ready"] = processes.cpu_delta(cpu_start, cpu_ready)
        result["apiserver_requests_until_ready"] = requests.others(requests_start, requests_ready)
        result["operator_metrics_until_ready"] = processes.operator_metrics(operator.metrics_url)
        result["events_until_ready"] = dict((await kube.event_reasons()).most_common())
        result.update(
            await _after_ready(kube, plan, fleets, tracker, watched=watched, requests_ready=requests_ready, args=args)
        )
        result["operator_metrics_at_end"] = processes.operator_metrics(operator.metrics_url)
        result["rss_end_mib"] = watched.memory("VmRSS")
        result["rss_peak_mib"] = watched.memory("VmHWM")
        result["fleet_workers"] = len(plan.workers)
    finally:
        follower.cancel()
        await asyncio.gather(follower, return_exceptions=True)
        await fleets.stop()
        await kube.close()
    stats: dict[str, int] = {}
    for item in fleets.stopped:
        for name, value in item["stats"].items():
            stats[name] = stats.get(name, 0) + value
    result["fleet_stats"] = {k: stats.get(k, 0) for k in ("connects", "connect_failures", "auth_failures", "boots")}
    return result


# Output --------------------------------------------------------------------------------------------


def table(document: Mapping[str, Any]) -> str:
    """The figures a person reads first."""
    convergence = document.get("convergence", {})
    change = document.get("change", {})
    rows: list[tuple[str, str]] = [
        ("chargers / subscriptions", f"{document['chargers']} / {document['subscriptions']}"),
        ("operator start (to Site Ready)", _s(document.get("operator_start_s"))),
        ("apply (objects, time)", f"{document.get('applied_objects')} in {_s(document.get('apply_s'))}"),
        ("all handed to the gateway (status)", _s(convergence.get("all_pushed_to_gateway_s"))),
        ("all chargers online (from apply start)", _s(convergence.get("all_online_s"))),
        ("all configured at the charger", _s(convergence.get("all_configured_at_charger_s"))),
        ("half Ready", _s(convergence.get("half_ready_s"))),
        (
            "all Ready (from apply start)",
            _s(convergence.get("all_ready_s"))
            if convergence.get("all_ready_s") is not None
            else f"not reached: {convergence.get('ready')} Ready",
        ),
    ]
    steady = document.get("steady")
    if steady:
        cpu = ", ".join(f"{name} {value}%" for name, value in steady["cpu_percent"].items())
        rows.append((f"steady state ({steady['window_s']:.0f} s): CPU", cpu))
        rows.append(
            ("steady state: Charger writes/s, Ready lost", f"{steady['charger_writes_per_s']}, {steady['ready_lost']}")
        )
        idle = steady.get("apiserver_requests", {})
        rows.append(("steady state: API server requests", ", ".join(f"{k} {v}" for k, v in idle.items()) or "0"))
    if convergence.get("ready_lost_by_reason"):
        lost = ", ".join(f"{reason} {count}" for reason, count in convergence["ready_lost_by_reason"].items())
        rows.append(("Ready lost after Ready, by reason", lost))
    if change:
        latency = change["to_charger_s"]
        rows.append(("changes arrived / made", f"{change['arrived']} / {change['changes']}"))
        rows.append(("change to charger p50 / p99 / max", _triple(latency)))
        for kind, figures in change["to_charger_by_kind_s"].items():
            rows.append((f"  {kind}", _triple(figures)))
        rows.append(("change to Ready status p50 / p99", _triple(change["to_status_ready_s"])))
        if change.get("changes") and "apiserver_requests" in change:
            rows.append(
                (
                    "API server requests per change",
                    requests.per_charger(change["apiserver_requests"], change["changes"]),
                )
            )
    metrics = document.get("operator_metrics_until_ready", {})
    if metrics:
        rows.append(("operator handler runs until Ready", _handler_runs(metrics)))
        rows.append(("operator gateway requests until Ready", _gateway_requests(metrics)))
    peak, end = document.get("rss_peak_mib", {}), document.get("rss_end_mib", {})
    for name in ("operator", "gateway", "kube-apiserver", "etcd", "fleet"):
        if name in peak:
            rows.append((f"RSS peak / end: {name}", f"{peak[name]} / {end.get(name)} MiB"))
    if "apiserver_requests_until_ready" in document:
        rows.append(
            (
                "API server requests per Charger until Ready",
                requests.per_charger(document["apiserver_requests_until_ready"], document["chargers"]),
            )
        )
        writes = convergence.get("charger_writes", {}).get("MODIFIED", 0)
        rows.append(("Charger writes (watch MODIFIED) per Charger", f"{writes / document['chargers']:.2f}"))
        events = ", ".join(f"{reason} {count}" for reason, count in document.get("events_until_ready", {}).items())
        rows.append(("Events until Ready, by reason", events or "0"))
    cpu = document.get("cpu_s_until_ready", {})
    if cpu:
        rows.append(("CPU s until Ready", ", ".join(f"{name} {value}" for name, value in cpu.items())))
    problems = f"{document.get('operator_log_problems')} / {document.get('gateway_log_problems')}"
    rows.append(("operator / gateway log warnings", problems))
    load = f"{document['load_average_at_start'][0]} / {document['load_average_at_end'][0]}"
    rows.append(("load average start / end", load))
    width = max(len(label) for label, _ in rows)
    return "\n".join([document["command"], *(f"{label:{width}}  {value}" for label, value in rows)])


def _labels(series: str) -> dict[str, str]:
    inside = series[series.index("{") + 1 : series.rindex("}")]
    return dict(item.split("=", 1) for item in inside.replace('"', "").split(",") if "=" in item)


def _handler_runs(metrics: Mapping[str, float]) -> str:
    """``Charger 203 (requeue 3), Subscription 8`` from chargeops_operator_reconciles_total."""
    runs: dict[str, dict[str, int]] = {}
    for series, value in metrics.items():
        if series.startswith("chargeops_operator_reconciles_total{"):
            labels = _labels(series)
            runs.setdefault(labels["kind"], {})[labels["result"]] = int(value)
    parts = []
    for kind, results in sorted(runs.items()):
        others = ", ".join(f"{result} {count}" for result, count in results.items() if result != "success")
        parts.append(f"{kind} {sum(results.values())}" + (f" ({others})" if others else ""))
    return ", ".join(parts)


def _gateway_requests(metrics: Mapping[str, float]) -> str:
    """``PUT desired 149 x 1.50 s`` per route, from the request-duration histogram's count and sum."""
    counts: dict[str, float] = {}
    sums: dict[str, float] = {}
    prefix = "chargeops_operator_gateway_request_duration_seconds_"
    for series, value in metrics.items():
        if series.startswith(prefix):
            route = _labels(series)["route"].replace("/v1/chargers/{id}/", "").replace("/v1/", "")
            target = counts if series.startswith(prefix + "count") else sums
            target[route] = target.get(route, 0.0) + value
    return ", ".join(
        f"{route} {int(count)} x {sums.get(route, 0.0) / count:.3f} s" for route, count in counts.items() if count
    )


def _s(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} s"


def _triple(figures: Mapping[str, Any]) -> str:
    if not figures.get("n"):
        return "-"
    return f"{figures['p50']:.3f} / {figures['p99']:.3f} / {figures['max']:.3f} s (n={figures['n']})"


def progress(text: str, args: argparse.Namespace) -> None:
    if not args.quiet:
        print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chargers", type=int, default=100, help="Chargers to apply (and simulate).")
    parser.add_argument(
        "--subscriptions", type=int, default=None, help="Subscriptions, each covering N/K chargers (default N/10)."
    )
    parser.add_argument("--changes", type=int, default=20, help="Spec changes to time, one after another.")
    parser.add_argument("--change-kind", choices=("mixed", "configuration", "id-tags"), default="mixed")
    parser.add_argument("--change-timeout", type=float, default=120.0, help="Seconds before a change counts as lost.")
    parser.add_argument("--ready-timeout", type=float, default=1800.0, help="Seconds to wait for all Ready.")
    parser.add_argument("--observe-interval", type=float, default=30.0, help="The operator's --observe-interval.")
    parser.add_argument("--apply-with", choices=("http", "kubectl"), default="http")
    parser.add_argument("--apply-concurrency", type=int, default=16, help="Server-side applies in flight (http).")
    parser.add_argument(
        "--fleet-start",
        choices=("after-apply", "before-apply", "after-pushed"),
        default="after-apply",
        help="When the simulated chargers power up (after-pushed: once the gateway knows every one).",
    )
    parser.add_argument("--fleet-workers", type=int, default=0, help="Simulated-charger processes (0: one per 5,000).")
    parser.add_argument("--connect-rate", type=float, default=500.0, help="Chargers powered up per second, in all.")
    parser.add_argument(
        "--charger-retry-max-s", type=float, default=30.0, help="Longest reconnect delay of a simulated charger."
    )
    parser.add_argument(
        "--steady-s", type=float, default=60.0, help="Seconds to measure the Ready fleet's idle cost (0: skip)."
    )
    parser.add_argument("--namespace", default="bench")
    parser.add_argument("--operator-log-level", default="INFO")
    parser.add_argument("--gateway-log-level", default="INFO")
    parser.add_argument("--py-spy", type=Path, help="Folder: py-spy records the operator and gateway until all Ready.")
    parser.add_argument("--py-spy-format", choices=("flamegraph", "speedscope", "raw"), default="flamegraph")
    parser.add_argument("--keep-logs", type=Path, help="Copy the operator's and gateway's logs into this folder.")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--quiet", action="store_true", help="No progress lines on stderr.")
    args = parser.parse_args(argv)
    if args.subscriptions is None:
        args.subscriptions = max(1, args.chargers // 10)
    args.subscriptions = min(args.subscriptions, args.chargers)
    return args


def _interrupted(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # so the finally blocks stop every process this benchmark started


def main() -> None:
    args = parse_args()
    signal.signal(signal.SIGTERM, _interrupted)
    document = asyncio.run(run(args))
    print(table(document))
    print(json.dumps(document, separators=(",", ":")))


if __name__ == "__main__":
    main()
