"""The printed table, the targets of the issue (item 5) and the JSON under bench/results/."""

from __future__ import annotations

import json
import shutil

from bench import config

# Item 5's targets for the pages and the jobs this product has today.
PAGE_P50_MS = 50
PAGE_P99_MS = 250
# Pages with their own p50 target (item 5): the order with its credit check, the board.
PAGE_P50_MS_BY_SCENARIO = {
    "credit_order_create": 30,
    "complaint_board": 100,
    "complaint_board_overdue": 100,
}
REPORT_COLD_S = 3.0
REPORT_SQL_RATIO = 2.0
REPORT_JOB_MB = 1_024
IMPORT_ROWS_PER_SECOND = 2_000
EXPORT_ROWS_PER_SECOND = 10_000
WORKER_PEAK_MB = 300


def failed_checks(summary: dict) -> list[str]:
    return [name for name, page in summary.get("pages", {}).items() if not page["ok"]]


def targets(summary: dict) -> list[tuple[str, str, bool]]:
    """(target, measured, met) for each of item 5's targets that can be measured today."""
    found = []
    for name, page in summary.get("pages", {}).items():
        p50_target = PAGE_P50_MS_BY_SCENARIO.get(name, PAGE_P50_MS)
        met = (
            page["ok"]
            and page["errors"] == 0
            and page["p50_ms"] <= p50_target
            and page["p99_ms"] <= PAGE_P99_MS
        )
        found.append(
            (
                f"{name}: p50 <= {p50_target} ms, p99 <= {PAGE_P99_MS} ms, no errors, content ok",
                f"p50 {page['p50_ms']} ms, p99 {page['p99_ms']} ms, errors {page['errors']}"
                + ("" if page["ok"] else f", CHECK FAILED ({page['note']})"),
                met,
            )
        )
    if "import" in summary:
        rate = summary["import"].get("rows_per_second") or 0
        found.append(
            (
                f"import >= {IMPORT_ROWS_PER_SECOND} rows/s",
                f"{rate} rows/s",
                rate >= IMPORT_ROWS_PER_SECOND,
            )
        )
    if "export" in summary:
        rate = summary["export"].get("rows_per_second") or 0
        found.append(
            (
                f"export >= {EXPORT_ROWS_PER_SECOND} rows/s",
                f"{rate} rows/s",
                rate >= EXPORT_ROWS_PER_SECOND,
            )
        )
    reports = summary.get("reports") or {}
    for scope in ("company", "gm"):
        for name, timing in (reports.get(scope) or {}).items():
            cold, ratio = timing["report_s"], timing["ratio"]
            found.append(
                (
                    f"report {name} ({scope}): cold <= {REPORT_COLD_S:g} s and "
                    f"<= {REPORT_SQL_RATIO:g}x its bare SQL",
                    f"{cold} s, {ratio}x",
                    cold <= REPORT_COLD_S and ratio <= REPORT_SQL_RATIO,
                )
            )
    if reports.get("peak_rss_mb") is not None:
        job = reports["peak_rss_mb"]
        found.append(
            (f"report job peak RSS <= {REPORT_JOB_MB} MB", f"{job} MB", job <= REPORT_JOB_MB)
        )
    peak = (summary.get("web_workers_rss_mb") or {}).get("max_peak_mb")
    if peak is not None:
        found.append(
            (f"web worker peak RSS <= {WORKER_PEAK_MB} MB", f"{peak} MB", peak <= WORKER_PEAK_MB)
        )
    return found  # fmt: skip


def _sql(page: dict) -> str:
    sql = page.get("sql")
    if not sql:
        return "-"
    return f"{sql['default']}+{sql['keys']}"


def print_table(summary: dict) -> None:
    width = min(shutil.get_terminal_size((120, 20)).columns, 140)
    line = "-" * width
    n = summary["config"]["n"]
    print()
    print(line)
    print(
        f"make bench  N={n}  {summary['date']}  {summary['machine']['cpus']} cores  "
        f"PostgreSQL {summary['machine']['postgresql']}  load tool: {summary['load_tool']}"
    )
    build = summary["build"]
    state = "cached database reused, it was built" if build.get("cached") else "built"
    print(f"data set: {state} in {build['totals']['build_seconds']} s: {build['totals']}")
    print(line)
    print(
        f"{'scenario':<22}{'req/s':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'errors':>8}"
        f"{'KB':>8}{'SQL':>8}  check"
    )
    for name, page in summary["pages"].items():
        print(
            f"{name:<22}{page['rps']:>8}{page['p50_ms']:>9}{page['p95_ms']:>9}{page['p99_ms']:>9}"
            f"{page['errors']:>8}{page['page_kb']:>8}{_sql(page):>8}  "
            f"{'ok' if page['ok'] else 'FAILED'} {page['note']}"
        )
    print("(SQL: queries on the business database + on the keys database, one request)")
    alone = {n: (p.get("sql") or {}).get("alone_ms") for n, p in summary["pages"].items()}
    print(
        "alone (one request, test client, no load), ms: "
        + ", ".join(f"{n} {v}" for n, v in alone.items() if v is not None)
    )
    rss = summary.get("web_workers_rss_mb") or {}
    workers = len(rss.get("workers", {}))
    print(f"web workers' peak RSS: {rss.get('max_peak_mb')} MB (max of {workers} workers)")
    if "import" in summary:
        imp = summary["import"]
        print(
            f"import: {imp['imported']}/{imp['rows']} rows in {imp['seconds']} s = "
            f"{imp['rows_per_second']} rows/s (status {imp['status']}, "
            f"peak RSS {imp['peak_rss_mb']} MB, into a copy of the N={imp['into']['n']} data set)"
        )
    if "export" in summary:
        exp = summary["export"]
        print(
            f"export: {exp['rows']} rows in {exp['seconds']} s = {exp['rows_per_second']} rows/s "
            f"({exp['bytes'] // 1024} KB CSV, peak RSS {exp['peak_rss_mb']} MB)"
        )
    reports = summary.get("reports") or {}
    if "skipped" in reports:
        print(f"reports: skipped: {reports['skipped']}")
    for scope in ("company", "gm"):
        for name, timing in (reports.get(scope) or {}).items():
            print(
                f"report {name} ({scope}): {timing.get('report_s')} s cold, bare SQL "
                f"{timing.get('bare_s')} s, ratio {timing.get('ratio')}, {timing.get('rows')} rows"
            )
    if "peak_rss_mb" in reports:
        print(f"report job peak RSS: {reports['peak_rss_mb']} MB")
    for name, failure in summary.get("failures", {}).items():
        print(f"FAILED part {name}: {failure}")
    growth = summary.get("growth")
    if growth:
        print(line)
        small, large = growth["small_n"], growth["large_n"]
        print(f"growth: p50 (req/s) at N={small} and N={large}  (N x{large / small:g})")
        for name, page in growth["small"].items():
            big = growth["large"].get(name)
            if not big:
                continue
            ratio = big["p50_ms"] / page["p50_ms"] if page["p50_ms"] else float("nan")
            print(
                f"  {name:<22}{page['p50_ms']:>8} ms ({page['rps']:>6}/s) -> {big['p50_ms']:>8} ms "
                f"({big['rps']:>6}/s)   p50 x{ratio:.1f}"
            )
    print(line)
    print("targets (issue item 5):")
    for target, measured, met in targets(summary):
        print(f"  [{'met' if met else 'NOT met'}] {target}: {measured}")
    print(line)
    print(f"total bench time: {summary['total_seconds']} s")


def write(summary: dict):
    """Every run under results/raw/ (git-ignored); the last run of each N as summary-n<N>.json."""
    raw = config.RESULTS_DIR / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    stamp = summary["date"].replace(":", "").replace("-", "")[:15]
    summary["targets"] = [
        {"target": t, "measured": m, "met": met} for t, m, met in targets(summary)
    ]
    text = json.dumps(summary, indent=2, default=str, ensure_ascii=False)
    path = raw / f"bench-n{summary['config']['n']}-{stamp}.json"
    path.write_text(text)
    latest = config.RESULTS_DIR / f"summary-n{summary['config']['n']}.json"
    latest.write_text(text)
    return latest


def markdown(summary: dict) -> str:
    """The results as the Markdown bench/README.md cites (``python -m bench.report FILE``)."""
    machine = summary["machine"]
    build = summary["build"]
    lines = [
        f"Run of {summary['date']}: N = {summary['config']['n']}, {machine['cpus']} cores, "
        f"{machine['memory_mb'] // 1024} GB RAM, PostgreSQL {machine['postgresql'].split()[0]} "
        f"(jit {machine['postgresql_settings']['jit']}, work_mem "
        f"{machine['postgresql_settings']['work_mem']}, shared_buffers "
        f"{machine['postgresql_settings']['shared_buffers']}), Python {machine['python']}, "
        f"{summary['load_tool'].split(' [')[0]}, {summary['config']['clients']} clients × "
        f"{summary['config']['duration']} s per scenario, {summary['config']['workers']} "
        f"gunicorn workers. Load average at start: "
        f"{', '.join(f'{x:.1f}' for x in machine['load_average_at_start'])}.",
        "",
        f"Data set built in {build['totals']['build_seconds']} s "
        f"({build['totals'].get('migrate_seconds')} s of it `migrate`; "
        f"{build['totals'].get('load_workers')} loader processes).",
        "",
        "| scenario | req/s | p50 ms | p95 ms | p99 ms | errors | page KB | SQL (default+keys) "
        "| alone ms | check |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for name, page in summary["pages"].items():
        check = "ok" if page["ok"] else "**FAILED**"
        note = f" ({page['note']})" if page["note"] else ""
        lines.append(
            f"| {name} | {page['rps']} | {page['p50_ms']} | {page['p95_ms']} | {page['p99_ms']} "
            f"| {page['errors']} | {page['page_kb']} | {_sql(page)} "
            f"| {(page.get('sql') or {}).get('alone_ms', '-')} | {check}{note} |"
        )
    rss = summary.get("web_workers_rss_mb") or {}
    lines += ["", f"Web workers' peak RSS: {rss.get('max_peak_mb')} MB."]
    if "import" in summary:
        imp = summary["import"]
        lines.append(
            f"Import: {imp['imported']} rows in {imp['seconds']} s = **{imp['rows_per_second']} "
            f"rows/s** (peak RSS {imp['peak_rss_mb']} MB)."
        )
    if "export" in summary:
        exp = summary["export"]
        lines.append(
            f"Export: {exp['rows']} rows in {exp['seconds']} s = **{exp['rows_per_second']} "
            f"rows/s** (peak RSS {exp['peak_rss_mb']} MB)."
        )
    growth = summary.get("growth")
    if growth:
        small, large = growth["small_n"], growth["large_n"]
        lines += [
            "",
            f"Growth, N = {small} → {large}:",
            "",
            f"| scenario | p50 ms at {small} | p50 ms at {large} | × | req/s at {small} "
            f"| req/s at {large} | alone ms at {small} | alone ms at {large} | × |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for name, page in growth["small"].items():
            big = growth["large"].get(name)
            if big:
                ratio = big["p50_ms"] / page["p50_ms"] if page["p50_ms"] else float("nan")
                alone = [(p.get("sql") or {}).get("alone_ms") for p in (page, big)]
                alone_ratio = f"{alone[1] / alone[0]:.1f}" if all(alone) else "-"
                lines.append(
                    f"| {name} | {page['p50_ms']} | {big['p50_ms']} | {ratio:.1f} "
                    f"| {page['rps']} | {big['rps']} | {alone[0] or '-'} | {alone[1] or '-'} "
                    f"| {alone_ratio} |"
                )
    lines += ["", "Targets of item 5:", ""]
    for target, measured, met in targets(summary):
        lines.append(f"- {'met' if met else '**not met**'}: {target}: {measured}")
    return "\n".join(lines)


if __name__ == "__main__":
    import sys

    with open(sys.argv[1]) as source:
        print(markdown(json.load(source)))
