"""The real server under load: gunicorn, signing in through the login form, the scenarios,
their content checks, and wrk (or a small Python client when wrk cannot be had).

Requests carry ``X-Forwarded-Proto: https`` as the TLS proxy in front of a production
deployment sends it (``SECURE_PROXY_SSL_HEADER``): no HTTPS redirect, secure cookies, and
CSRF's referer check for POSTs, as in production.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

from bench import config

HOST = "127.0.0.1"
PROXY = {"X-Forwarded-Proto": "https"}
GROWTH_SCENARIOS = [
    "list_p1_rep",
    "list_p1_gm",
    "list_p200_gm",
    "search_name_html_gm",
    "search_phone_api_gm",
    "card_rep",
]


# --- the server ---------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


class Server:
    """gunicorn (docker/gunicorn.conf.py), 4 sync workers, 127.0.0.1 only, production
    settings (DEBUG off), persistent database connections."""

    def __init__(self, database_url: str, *, workers: int = 4):
        self.database_url = database_url
        self.workers = workers
        self.port = _free_port()
        self.process = None
        self.log = config.CACHE_DIR / f"gunicorn-{config.db_name(database_url)}.log"

    def start(self) -> None:
        # The production image's gunicorn settings (access log without query strings…),
        # bound to 127.0.0.1 only, with sync workers.
        command = [
            str(Path(config.PYTHON).with_name("gunicorn")),
            "--config", str(config.REPO_DIR / "docker" / "gunicorn.conf.py"),
            "--worker-class", "sync",
            "--timeout", "120",
            "--error-logfile", str(self.log),
            "crm.wsgi:application",
        ]  # fmt: skip
        self.process = subprocess.Popen(
            command,
            cwd=config.REPO_DIR,
            env=config.django_env(
                self.database_url,
                GUNICORN_BIND=f"{HOST}:{self.port}",
                GUNICORN_WORKERS=str(self.workers),
            ),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn exited; see {self.log}")
            try:
                status, _headers, _body = request(self.port, "GET", "/healthz")
                if status == 200 and len(self.worker_pids()) >= self.workers:
                    return
            except OSError:
                pass
            time.sleep(0.5)
        raise SystemExit(f"gunicorn did not answer within 60 s; see {self.log}")

    def worker_pids(self) -> list[int]:
        if self.process is None:
            return []
        pids = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            if parent == self.process.pid:
                pids.append(int(entry.name))
        return pids

    def worker_memory(self) -> dict:
        """Each worker's peak (VmHWM) and current (VmRSS) resident memory, in MB."""
        found = {}
        for pid in self.worker_pids():
            values = {}
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith(("VmHWM:", "VmRSS:")):
                        name, amount, _unit = line.split()
                        values[name.rstrip(":")] = round(int(amount) / 1024, 1)
            except OSError:
                continue
            found[pid] = {"peak_mb": values.get("VmHWM"), "rss_mb": values.get("VmRSS")}
        peaks = [v["peak_mb"] for v in found.values() if v["peak_mb"]]
        return {"workers": found, "max_peak_mb": max(peaks) if peaks else None}

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()  # our own gunicorn master, by its pid
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


# --- one request --------------------------------------------------------------------------


def request(port: int, method: str, path: str, *, headers=None, body: bytes | str = b""):
    connection = http.client.HTTPConnection(HOST, port, timeout=120)
    try:
        payload = body.encode() if isinstance(body, str) else body
        connection.request(method, path, body=payload or None, headers={**PROXY, **(headers or {})})
        response = connection.getresponse()
        return response.status, response.getheaders(), response.read()
    finally:
        connection.close()


def _cookies(headers, jar: dict) -> dict:
    for name, value in headers:
        if name.lower() == "set-cookie":
            cookie = SimpleCookie()
            cookie.load(value)
            for key, morsel in cookie.items():
                jar[key] = morsel.value
    return jar


@dataclass
class Session:
    username: str
    cookies: dict

    @property
    def cookie_header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in sorted(self.cookies.items()))

    @property
    def csrf(self) -> str:
        return self.cookies["csrftoken"]


def totp(key_hex: str, at: float | None = None) -> str:
    """The six-digit code an authenticator shows for ``key_hex`` now (RFC 6238: SHA-1,
    30-second steps, as django-otp's TOTP devices use by default)."""
    counter = int((time.time() if at is None else at) // 30)
    mac = hmac.new(bytes.fromhex(key_hex), counter.to_bytes(8, "big"), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    code = (int.from_bytes(mac[offset : offset + 4], "big") & 0x7FFFFFFF) % 1_000_000
    return f"{code:06d}"


def _submit_form(port: int, path: str, jar: dict, fields: dict) -> int:
    """GET a form page for its CSRF token, POST ``fields`` to it as a browser does; the
    cookies of both answers go into ``jar``. Returns the POST's status."""
    cookie = {"Cookie": "; ".join(f"{k}={v}" for k, v in jar.items())} if jar else {}
    status, headers, body = request(port, "GET", path, headers=cookie)
    _cookies(headers, jar)
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body)
    if status != 200 or token is None or "csrftoken" not in jar:
        raise SystemExit(f"{path}: status {status}, no CSRF token")
    status, headers, _body = request(
        port,
        "POST",
        path,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": "; ".join(f"{k}={v}" for k, v in jar.items()),
            "Referer": f"https://{HOST}:{port}{path}",
        },
        body=urlencode({"csrfmiddlewaretoken": token.group(1).decode(), **fields}),
    )
    _cookies(headers, jar)
    return status


def login(port: int, username: str, password: str, totp_key: str | None = None) -> Session:
    """Sign in through the login form, as a browser does (and through the code step when
    the user's role signs in with a second factor)."""
    jar: dict = {}
    fields = {"username": username, "password": password, "next": "/"}
    status = _submit_form(port, "/login/", jar, fields)
    if status != 302 or "sessionid" not in jar:
        raise SystemExit(f"signing in as {username} failed (status {status})")
    if totp_key:
        status = _submit_form(port, "/security/two-factor/verify/", jar, {"code": totp(totp_key)})
        if status != 302:
            raise SystemExit(f"two-factor code for {username} refused (status {status})")
    return Session(username, jar)


# --- scenarios ----------------------------------------------------------------------------


@dataclass
class Scenario:
    name: str
    role: str
    session: Session
    method: str
    path: str
    body: str = ""
    content_type: str = ""
    extra_headers: dict = field(default_factory=dict)
    markers: list = field(default_factory=list)  # byte strings the answer must hold
    json_count: int | None = None  # the API answer's "count"
    html_count: int | None = None  # the list page's "N customers"
    note: str = ""
    status: int = 200  # what the check expects (201 for a creation)

    def headers(self, port: int) -> dict:
        headers = {**PROXY, "Cookie": self.session.cookie_header, **self.extra_headers}
        if self.method == "POST":
            headers["X-CSRFToken"] = self.session.csrf
            headers["Referer"] = f"https://{HOST}:{port}/customers/"
            headers["Content-Type"] = self.content_type
        return headers

    def as_task(self) -> dict:
        """What ``bench.tasks sqlcount`` needs to repeat the request in the test client."""
        return {
            "name": self.name,
            "user": self.session.username,
            "method": self.method,
            "path": self.path,
            "body": self.body,
            "content_type": self.content_type,
            "headers": self.extra_headers,
        }


PAGE_SIZE = 25  # customers.views.cards.PAGE_SIZE


EXACT_COUNT_LIMIT = 20_000  # crm.paginator: above it the count is the planner's estimate


def _page_marker(shown: int, pages: int, count: int) -> bytes:
    """``Page 3 of 87``; above the exact-count limit ``Page 200 of about …`` (an estimate)."""
    if count > EXACT_COUNT_LIMIT:
        return f"Page {shown} of about ".encode()
    return f"Page {shown} of {pages}".encode()


def scenarios(info: dict, sessions: dict) -> list[Scenario]:
    visible, card = info["visible"], info["card"]
    found: list[Scenario] = []
    for role in ("rep", "manager", "gm"):
        count = visible[role]
        pages = max(1, -(-count // PAGE_SIZE))
        for page in (1, 200):
            shown = min(page, pages)
            found.append(
                Scenario(
                    f"list_p{page}_{role}",
                    role,
                    sessions[role],
                    "GET",
                    "/customers/" + ("" if page == 1 else f"?page={page}"),
                    html_count=count,
                    markers=[_page_marker(shown, pages, count)] if pages > 1 else [],
                    note="" if shown == page else f"clamped to last page {shown}",
                )
            )
    gm = sessions["gm"]
    html_search = {"HX-Request": "true"}
    form = "application/x-www-form-urlencoded"
    found += [
        Scenario(
            "search_phone_html_gm", "gm", gm, "POST", "/customers/",
            body=urlencode({"q": info["phone"]}), content_type=form, extra_headers=html_search,
            markers=[card["code"].encode()], html_count=1,
        ),
        Scenario(
            "search_phone_api_gm", "gm", gm, "POST", "/api/v1/customers/search/",
            body=json.dumps({"q": info["phone"]}), content_type="application/json",
            markers=[card["code"].encode()], json_count=1,
        ),
        Scenario(
            "search_name_html_gm", "gm", gm, "POST", "/customers/",
            body=urlencode({"q": info["name_term"]}), content_type=form,
            extra_headers=html_search, html_count=info["name_hits"],
        ),
        Scenario(
            "search_name_api_gm", "gm", gm, "POST", "/api/v1/customers/search/",
            body=json.dumps({"q": info["name_term"]}), content_type="application/json",
            json_count=info["name_hits"],
        ),
        Scenario(
            "card_rep", "rep", sessions["rep"], "GET", f"/customers/{card['pk']}/",
            markers=[card["code"].encode()], note=f"record N/2 = {card['code']}",
        ),
        Scenario(
            "api_list_rep", "rep", sessions["rep"], "GET", "/api/v1/customers/",
            json_count=visible["rep"],
        ),
        Scenario(
            "api_list_gm", "gm", gm, "GET", "/api/v1/customers/", json_count=visible["gm"],
        ),
        # The follow-up calendar (issue 13): a rep's month, his manager's team week.
        Scenario(
            "calendar_month_rep", "rep", sessions["rep"], "GET", "/customers/calendar/",
            markers=[b'data-testid="cal-month"'],
        ),
        Scenario(
            "calendar_week_manager", "manager", sessions["manager"], "GET",
            "/customers/calendar/?view=week", markers=[b'data-testid="cal-week"'],
        ),
    ]  # fmt: skip
    if "admin" in sessions:  # user administration (issue 13): every user of the company
        admin = sessions["admin"]
        found += [
            Scenario(
                "users_list_admin", "admin", admin, "GET", "/users/",
                markers=[b">Users</h1>", f"{info['user_count']:,} users".encode()],
            ),
            Scenario(
                "users_api_admin", "admin", admin, "GET", "/api/v1/users/",
                json_count=info["user_count"],
            ),
        ]  # fmt: skip
    return found


def _count_matches(count, expected: int, estimate: bool) -> bool:
    """Exact counts must be exact; a flagged estimate (above 20,000 rows, the planner's
    figure) within 5 % of the truth."""
    if count is None:
        return False
    return abs(count - expected) <= 0.05 * expected if estimate else count == expected


def check(port: int, scenario: Scenario) -> dict:
    """One request: the expected status (200, or 201 for a creation) and the page's
    markers (and count) before it is timed."""
    status, _headers, body = request(
        port, scenario.method, scenario.path, headers=scenario.headers(port), body=scenario.body
    )
    problems = []
    if status != scenario.status:
        problems.append(f"status {status}, expected {scenario.status}")
    for marker in scenario.markers:
        if marker not in body:
            problems.append(f"missing {marker.decode()!r}")
    if scenario.json_count is not None:
        try:
            answer = json.loads(body)
            count, estimate = answer["count"], answer.get("count_is_estimate", False)
        except (ValueError, KeyError):
            count, estimate = None, False
        if not _count_matches(count, scenario.json_count, estimate):
            problems.append(f"count {count}, expected {scenario.json_count}")
    if scenario.html_count is not None:
        shown = re.search(rb'mb-1">(about )?([\d,]+) customers?</p>', body)
        count = int(shown.group(2).replace(b",", b"")) if shown else None
        if not _count_matches(count, scenario.html_count, bool(shown and shown.group(1))):
            problems.append(f"shows {count} customers, expected {scenario.html_count}")
    return {
        "ok": not problems,
        "note": "; ".join(problems) or scenario.note,
        "status": status,
        "page_kb": round(len(body) / 1024, 1),
    }


# --- load ---------------------------------------------------------------------------------


def ensure_wrk() -> None:
    """Install wrk with apt when it is missing and we may (root); else the Python client."""
    if shutil.which("wrk") or os.environ.get("BENCH_LOAD_TOOL") == "python":
        return
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("[bench] wrk is missing: apt-get install -y wrk", flush=True)
        subprocess.run(
            ["apt-get", "install", "-y", "-q", "wrk"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
        )


def load_tool() -> str:
    if os.environ.get("BENCH_LOAD_TOOL") != "python" and shutil.which("wrk"):
        version = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout
        return (version.strip().splitlines() or ["wrk"])[0]
    return "python threads (bench.http.python_drive)"


def _lua_string(text: str) -> str:
    """A Lua string literal: every byte but plain ones as a decimal escape."""
    plain = set(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 -_./:=;,")
    return '"' + "".join(chr(b) if b in plain else f"\\{b:03d}" for b in text.encode()) + '"'


def drive(port: int, scenario: Scenario, *, duration: int, clients: int, threads: int) -> dict:
    if os.environ.get("BENCH_LOAD_TOOL") != "python" and shutil.which("wrk"):
        return wrk_drive(port, scenario, duration=duration, clients=clients, threads=threads)
    return python_drive(port, scenario, duration=duration, clients=clients)


def wrk_drive(port: int, scenario: Scenario, *, duration: int, clients: int, threads: int):
    headers = scenario.headers(port)
    method = _lua_string(scenario.method)
    body = _lua_string(scenario.body) if scenario.body else "nil"
    pairs = ", ".join(f"[{_lua_string(k)}] = {_lua_string(v)}" for k, v in headers.items())
    prelude = f"local spec = {{method = {method}, body = {body}, headers = {{{pairs}}}}}\n"
    script = config.CACHE_DIR / f"wrk-{scenario.name}.lua"
    descriptor = os.open(script, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # a session
    with os.fdopen(descriptor, "w") as out:
        out.write(prelude + (config.BENCH_DIR / "wrk.lua").read_text())
    command = [
        "wrk", f"-t{threads}", f"-c{clients}", f"-d{duration}s", "--latency",
        "--timeout", "30s", "-s", str(script), f"http://{HOST}:{port}{scenario.path}",
    ]  # fmt: skip
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    script.unlink()
    line = next(x for x in output.splitlines() if x.startswith("WRK-JSON "))
    data = json.loads(line[len("WRK-JSON ") :])
    seconds = data["duration_us"] / 1e6
    errors = sum(data["errors"].values())
    lat = data["latency_us"]
    return {
        "tool": "wrk",
        "requests": data["requests"],
        "rps": round(data["requests"] / seconds, 1) if seconds else 0.0,
        "p50_ms": round(lat["p50"] / 1000, 1),
        "p95_ms": round(lat["p95"] / 1000, 1),
        "p99_ms": round(lat["p99"] / 1000, 1),
        "max_ms": round(lat["max"] / 1000, 1),
        "errors": errors,
        "error_detail": data["errors"],
    }


def python_drive(port: int, scenario: Scenario, *, duration: int, clients: int) -> dict:
    """``clients`` threads, each sending the request again as soon as it is answered."""
    headers = scenario.headers(port)
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop_at = time.monotonic() + duration

    def client():
        mine, failed = [], 0
        while time.monotonic() < stop_at:
            began = time.perf_counter()
            try:
                status, _h, _b = request(
                    port, scenario.method, scenario.path, headers=headers, body=scenario.body
                )
                if status >= 400:
                    failed += 1
            except OSError:
                failed += 1
            mine.append(time.perf_counter() - began)
        with lock:
            latencies.extend(mine)
            errors[0] += failed

    started = time.monotonic()
    workers = [threading.Thread(target=client) for _ in range(clients)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    seconds = time.monotonic() - started
    latencies.sort()

    def pct(p):
        return round(latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))] * 1000, 1)

    return {
        "tool": "python",
        "requests": len(latencies),
        "rps": round(len(latencies) / seconds, 1),
        "p50_ms": pct(50) if latencies else None,
        "p95_ms": pct(95) if latencies else None,
        "p99_ms": pct(99) if latencies else None,
        "max_ms": round(latencies[-1] * 1000, 1) if latencies else None,
        "errors": errors[0],
    }
