"""``make bench`` / ``python -m bench``: build (or reuse) the data set, load the real server,
time import and export, measure growth, print the table, write the JSON.

See bench/README.md. The orchestrator itself never imports Django: every step that needs
it runs in its own process (``bench.tasks``) with the bench's environment, so the data
set of N and the one of the growth comparison each get their own settings.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from bench import config, http, report

SHARED_DATASET = config.REPO_DIR.parent / "shared" / "bench" / "crm_dataset.py"


def say(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- processes ----------------------------------------------------------------------------


class StepFailed(Exception):
    """A bench step's process failed; the run goes on with the other parts."""


def run_task(step: str, database_url: str, *args: str, stream: bool = True) -> dict:
    """Run ``bench.tasks <step>`` on one bench database; its JSON answer."""
    command = [config.PYTHON, "-m", "bench.tasks", step, *args]
    process = subprocess.Popen(
        command,
        cwd=config.REPO_DIR,
        env=config.django_env(database_url),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    answer, tail = None, []
    for line in process.stdout:
        if line.startswith("BENCH-JSON "):
            answer = json.loads(line[len("BENCH-JSON ") :])
            continue
        tail = [*tail[-40:], line]
        if stream:
            print(line, end="", flush=True)
    if process.wait() != 0 or answer is None:
        sys.stdout.write("".join(tail))
        raise StepFailed(f"bench step {step!r} failed (exit {process.returncode}): {tail[-1:]}")
    return answer


# --- databases ----------------------------------------------------------------------------


def _admin():
    import psycopg2

    connection = psycopg2.connect(config.admin_url(CFG.database_url))
    connection.autocommit = True
    return connection


def _marker(database_url: str) -> tuple[str, dict] | None:
    import psycopg2

    try:
        connection = psycopg2.connect(database_url)
    except psycopg2.OperationalError:
        return None
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT to_regclass('bench_build')")
            if cursor.fetchone()[0] is None:
                return None
            cursor.execute(
                "SELECT params_hash, totals FROM bench_build ORDER BY built_at DESC LIMIT 1"
            )
            row = cursor.fetchone()
            return (row[0], row[1]) if row else None
    finally:
        connection.close()


def _recreate(*names: str) -> None:
    connection = _admin()
    with connection.cursor() as cursor:
        for name in names:
            if "bench" not in name:
                raise SystemExit(f"refusing to drop {name!r}: not a bench database")
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            cursor.execute(f'CREATE DATABASE "{name}"')
    connection.close()


def _drop(*names: str) -> None:
    connection = _admin()
    with connection.cursor() as cursor:
        for name in names:
            if "bench" in name:
                cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    connection.close()


def params_for(n: int) -> dict:
    return {
        "n": n,
        "seed": 20251128,
        "interactions": CFG.interactions * n // CFG.n if n != CFG.n else CFG.interactions,
        "loader": config.loader_hash(),
        "keys": config.keys_fingerprint(config.bench_secrets()),
    }


def ensure_built(n: int) -> dict:
    """The database of size ``n``: reused when its marker matches the parameters."""
    url = CFG.database(n)
    params = params_for(n)
    digest = hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:16]
    marker = _marker(url)
    if not CFG.rebuild and marker and marker[0] == digest:
        say(f"N={n}: cached database {config.db_name(url)} reused (parameters {digest})")
        run_task("migrate", url, stream=False)
        return {"url": url, "cached": True, "params": params, "totals": marker[1]}
    say(f"N={n}: building {config.db_name(url)} (+ _keys) ...")
    _recreate(config.db_name(url), config.db_name(url) + "_keys")
    totals = run_task(
        "build",
        url,
        "--n",
        str(n),
        "--interactions",
        str(params["interactions"]),
        "--params-hash",
        digest,
        "--params",
        json.dumps(params),
    )
    say(f"N={n}: built in {totals['build_seconds']} s ({totals})")
    return {"url": url, "cached": False, "params": params, "totals": totals}


# --- the run ------------------------------------------------------------------------------


def check_dataset() -> dict:
    vendored = (config.BENCH_DIR / "crm_dataset.py").read_bytes()
    digest = hashlib.sha256(vendored).hexdigest()
    shared = None
    if SHARED_DATASET.exists():
        shared = hashlib.sha256(SHARED_DATASET.read_bytes()).hexdigest()
        if shared != digest:
            raise SystemExit(
                f"bench/crm_dataset.py differs from {SHARED_DATASET}: copy it again (as is)."
            )
    return {"sha256": digest, "shared_copy_checked": shared is not None}


def collectstatic(url: str) -> None:
    subprocess.run(
        [config.PYTHON, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=config.REPO_DIR,
        env=config.django_env(url),
        check=True,
    )


def machine() -> dict:
    import psycopg2

    connection = psycopg2.connect(config.admin_url(CFG.database_url))
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
        settings = {}
        for name in ("jit", "work_mem", "shared_buffers", "effective_cache_size"):
            cursor.execute(f"SHOW {name}")
            settings[name] = cursor.fetchone()[0]
    connection.close()
    memory = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            memory = int(line.split()[1]) // 1024
    return {
        "cpus": os.cpu_count(),
        "memory_mb": memory,
        "python": platform.python_version(),
        "postgresql": version,
        "postgresql_settings": settings,
        "load_average_at_start": os.getloadavg(),
    }


def load_run(n: int, url: str, names: list[str] | None, label: str) -> dict:
    """Serve the database of size ``n`` and drive the scenarios at it."""
    info = run_task("info", url, "--n", str(n), stream=False)
    server = http.Server(url, workers=CFG.workers)
    server.start()
    try:
        sessions = {
            role: http.login(
                server.port,
                info["users"][role],
                os.environ["BENCH_PASSWORD"],
                totp_key=info.get("totp_keys", {}).get(role),
            )
            for role in ("rep", "manager", "gm", "service_manager", "admin")
            if role in info["users"]
        }
        scenarios = http.scenarios(info, sessions)
        if "service_manager" in sessions:
            from bench.scenarios_complaints import complaint_scenarios

            scenarios += complaint_scenarios(sessions["service_manager"])
        if info.get("credit_customer"):
            from bench.scenarios_credit import credit_scenarios

            scenarios += credit_scenarios(sessions["rep"], customer_id=info["credit_customer"])
        if names is not None:
            scenarios = [s for s in scenarios if s.name in names]
        if CFG.only:
            wanted = set(CFG.only.split(","))
            scenarios = [s for s in scenarios if s.name in wanted]
        results = {}
        for scenario in scenarios:
            check = http.check(server.port, scenario)
            verdict = "ok" if check["ok"] else "FAILED"
            say(f"{label} {scenario.name}: check {verdict} {check['note']}")
            if CFG.warmup:  # each worker loads the page's templates and code once, untimed
                http.drive(
                    server.port, scenario, duration=CFG.warmup, clients=CFG.clients,
                    threads=CFG.threads,
                )  # fmt: skip
            timing = http.drive(
                server.port, scenario, duration=CFG.duration, clients=CFG.clients,
                threads=CFG.threads,
            )  # fmt: skip
            results[scenario.name] = {**check, **timing, "role": scenario.role}
            say(
                f"{label} {scenario.name}: {timing['rps']} req/s p50 {timing['p50_ms']} ms "
                f"p99 {timing['p99_ms']} ms errors {timing['errors']}"
            )
        rss = server.worker_memory()
    finally:
        server.stop()
    return {"info": info, "results": results, "workers_rss": rss, "scenarios": scenarios}


def main() -> None:
    global CFG
    CFG = config.Config()
    os.environ.setdefault("BENCH_PASSWORD", config.bench_secrets()["BENCH_PASSWORD"])
    started = time.monotonic()
    stamp = datetime.datetime.now().astimezone()
    say(
        f"N={CFG.n} (growth at {CFG.growth_n}), {CFG.interactions} interactions, "
        f"{CFG.clients} clients x {CFG.duration} s, {CFG.workers} gunicorn workers"
    )
    dataset = check_dataset()
    summary: dict = {
        "date": stamp.isoformat(timespec="seconds"),
        "machine": machine(),
        "dataset": dataset,
        "config": {
            k: getattr(CFG, k)
            for k in (
                "n",
                "growth_n",
                "duration",
                "clients",
                "threads",
                "workers",
                "interactions",
                "import_n",
                "export_n",
            )  # fmt: skip
        },
        "load_tool": http.load_tool(),
    }
    main_db = ensure_built(CFG.n)
    summary["build"] = {"n": CFG.n, **{k: v for k, v in main_db.items() if k != "url"}}
    growth_db = None
    if 0 < CFG.growth_n < CFG.n:
        growth_db = ensure_built(CFG.growth_n)
        summary["build_growth"] = {
            "n": CFG.growth_n,
            **{k: v for k, v in growth_db.items() if k != "url"},
        }
    if CFG.build_only:
        say("data sets built (BENCH_BUILD_ONLY=1): nothing timed")
        return
    collectstatic(main_db["url"])

    # Item 2: the pages under load.
    say("load: the real server, 8 clients per scenario")
    main_run = load_run(CFG.n, main_db["url"], None, f"N={CFG.n}")
    summary["info"] = {k: v for k, v in main_run["info"].items() if k != "totp_keys"}
    summary["pages"] = main_run["results"]
    summary["web_workers_rss_mb"] = main_run["workers_rss"]

    say("SQL queries per request (one instrumented request each, test client)")
    sql = phase(
        summary,
        "sqlcount",
        lambda: run_task(
            "sqlcount",
            main_db["url"],
            "--scenarios",
            json.dumps([s.as_task() for s in main_run["scenarios"]]),
            stream=False,
        ),
    )
    for name, counts in (sql or {}).items():
        if name in summary["pages"]:
            summary["pages"][name]["sql"] = counts

    # Where the time goes on the slowest list page.
    lists = {k: v for k, v in summary["pages"].items() if k.startswith("list_")}
    if lists:
        slowest = max(lists, key=lambda k: lists[k]["p50_ms"])
        role = summary["pages"][slowest]["role"]
        username = summary["info"]["users"][role]
        plans = phase(
            summary,
            "explain",
            lambda: run_task("explain", main_db["url"], "--user", username, stream=False),
        )
        if plans:
            summary["profile"] = {"page": slowest, **plans}

    # Item 3: reports.
    say("reports: each cold, and the bare SQL aggregate it is built on")
    result = phase(summary, "reports", lambda: run_task("reports", main_db["url"], stream=False))
    if result:
        summary["reports"] = result

    # Item 6: growth.
    if growth_db is not None:
        say(f"growth: the same pages at N={CFG.growth_n}")
        growth_run = phase(
            summary,
            "growth",
            lambda: load_run(
                CFG.growth_n, growth_db["url"], http.GROWTH_SCENARIOS, f"N={CFG.growth_n}"
            ),
        )
        if growth_run:
            summary["growth"] = {
                "small_n": CFG.growth_n,
                "large_n": CFG.n,
                "small": growth_run["results"],
                "large": {
                    k: summary["pages"][k] for k in growth_run["results"] if k in summary["pages"]
                },
            }

    # Item 4: import and export.
    result = phase(summary, "import", lambda: import_run(growth_db or main_db))
    if result:
        summary["import"] = result
        say(f"import: {result}")
    say(f"export of up to {CFG.export_n} rows")
    result = phase(summary, "export", lambda: run_task("export", main_db["url"], stream=False))
    if result:
        summary["export"] = result
        say(f"export: {result}")

    summary["total_seconds"] = round(time.monotonic() - started, 1)
    report.print_table(summary)
    path = report.write(summary)
    say(f"results written to {path}")
    if summary.get("failures"):
        say(f"WARNING: parts of the bench failed: {sorted(summary['failures'])}")
    if report.failed_checks(summary):
        say("WARNING: some content checks failed (see the table); the figures are still shown")
        if os.environ.get("BENCH_STRICT") == "1":
            raise SystemExit(1)


def phase(summary: dict, name: str, run):
    """Run one part of the bench; a failure is recorded and the others still run."""
    try:
        return run()
    except (StepFailed, SystemExit, OSError) as exc:
        say(f"{name}: FAILED: {exc}")
        summary.setdefault("failures", {})[name] = str(exc)
        return None


def import_run(source_db: dict) -> dict:
    """Import into a scratch copy of a built data set (never into the cached one)."""
    source = config.db_name(source_db["url"])
    scratch_url = CFG.database(source_db["params"]["n"], "_import")
    scratch = config.db_name(scratch_url)
    _drop(scratch, scratch + "_keys")
    connection = _admin()
    with connection.cursor() as cursor:
        for suffix in ("", "_keys"):
            cursor.execute(
                f'CREATE DATABASE "{scratch}{suffix}" TEMPLATE "{source}{suffix}"'
            )  # the template must have no other session: its server is stopped by now
    connection.close()
    say(f"import of {CFG.import_n} customers into {scratch} (a copy of {source})")
    try:
        info = run_task("info", scratch_url, "--n", str(source_db["params"]["n"]), stream=False)
        result = run_task(
            "import",
            scratch_url,
            "--user",
            info["users"]["rep"],
            "--start",
            str(max(CFG.n, source_db["params"]["n"]) + 1_000_000),
            "--count",
            str(CFG.import_n),
            stream=False,
        )
        result["into"] = {"n": source_db["params"]["n"], "cards": info["visible"]["gm"]}
        return result
    finally:
        if os.environ.get("BENCH_KEEP_IMPORT_DB") != "1":
            _drop(scratch, scratch + "_keys")


CFG: config.Config


def _stop_on_terminate(signum, frame):
    # SIGTERM (a stopped make, a killed run) unwinds like Ctrl-C: the server is stopped and
    # the scratch import database dropped by the ``finally`` blocks.
    raise SystemExit(128 + signum)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _stop_on_terminate)
    if shutil.which("wrk") is None:
        http.ensure_wrk()
    main()
