"""The bench's steps that run inside Django (``python -m bench.tasks <step> ...``).

The orchestrator (``bench.__main__``) runs each step in its own process with the bench's
environment (``bench.config.django_env``): production settings on one bench database pair.
Each step prints one JSON object on its last line of output.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time


def _setup():
    import django

    django.setup()


def _emit(data: dict) -> None:
    print("BENCH-JSON " + json.dumps(data, default=str), flush=True)


# --- build --------------------------------------------------------------------------------


def step_build(args) -> dict:
    from django.core.management import call_command
    from django.db import connection

    from bench import loader

    started = time.monotonic()
    call_command("migrate", database="keys", interactive=False, verbosity=0)
    call_command("migrate", interactive=False, verbosity=0)
    migrated = round(time.monotonic() - started, 1)
    totals = loader.build(
        n=args.n,
        interactions=args.interactions,
        password=os.environ["BENCH_PASSWORD"],
        workers=int(os.environ.get("BENCH_LOAD_WORKERS") or 2),
    )
    totals["migrate_seconds"] = migrated
    totals["build_seconds"] = round(time.monotonic() - started, 1)
    totals["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE {loader.MARKER_TABLE} (params_hash text, params jsonb, "
            "totals jsonb, built_at timestamptz DEFAULT now())"
        )
        cursor.execute(
            f"INSERT INTO {loader.MARKER_TABLE} (params_hash, params, totals) VALUES (%s, %s, %s)",
            [args.params_hash, args.params, json.dumps(totals)],
        )
    return totals


def step_migrate(args) -> dict:
    """Bring a cached database up to the product's current migrations (no-op if current)."""
    from django.core.management import call_command

    call_command("migrate", database="keys", interactive=False, verbosity=0)
    call_command("migrate", interactive=False, verbosity=0)
    return {"migrated": True}


# --- facts the load run needs -------------------------------------------------------------


def step_info(args) -> dict:
    """Who signs in, which card is record N/2, what each check must find."""
    from bench import crm_dataset, mapping
    from crm.models import User
    from customers import permissions as perms
    from customers.models import Customer

    n = args.n
    i = crm_dataset.detail_index(n)
    record = next(crm_dataset.generate(i + 1, start=i))
    card = mapping.organisation_card(record)
    customer = Customer.objects.select_related("owner__team__manager").get(
        code=mapping.code(card["position"])
    )
    rep = customer.owner
    manager = rep.team.manager
    gm = User.objects.get(username="gm")
    visible = {
        role: perms.visible_customers(user, Customer.objects.all())
        .exclude(status=Customer.Status.MERGED)
        .count()
        for role, user in (("rep", rep), ("manager", manager), ("gm", gm))
    }
    users = {"rep": rep.username, "manager": manager.username, "gm": gm.username}
    service_manager = User.objects.filter(username="servicemgr").first()
    if service_manager is not None:  # made by bench.load_complaints
        users["service_manager"] = service_manager.username
    users["admin"] = _bench_admin().username
    # Privileged roles sign in with a second factor under the production profile: each gets
    # an authenticator, whose key the load run uses to answer the code step as a phone would.
    people = {user.username: user for user in User.objects.filter(username__in=users.values())}
    totp_keys = {
        role: _bench_authenticator(people[username])
        for role, username in users.items()
        if _needs_second_factor(people[username])
    }
    from bench.load_credit import bench_credit_customer

    credit_customer = bench_credit_customer(owner_username=rep.username)
    return {
        "users": users,
        "totp_keys": totp_keys,
        "credit_customer": credit_customer,
        "visible": visible,
        "user_count": User.objects.count(),
        "card": {"pk": customer.pk, "code": customer.code, "index": i},
        "phone": card["phone"],
        "name_term": crm_dataset.SEARCH_TERM,
        "name_hits": mapping.expected_name_hits(n),
    }


def _bench_admin():
    """The administrator whose user list the load run measures (made once and kept): not
    part of the data set, so adding him never rebuilds it."""
    from django.contrib.auth.hashers import make_password

    from crm import roles
    from crm.models import User
    from crm.services import user_create

    admin = User.objects.filter(username="benchadmin").first()
    if admin is None:
        admin = user_create(username="benchadmin", role=roles.ADMIN, password=None, validate=False)
    User.objects.filter(pk=admin.pk).update(password=make_password(os.environ["BENCH_PASSWORD"]))
    return admin


def _needs_second_factor(user) -> bool:
    from crm.security import twofactor

    return twofactor.required_for(user)


def _bench_authenticator(user) -> str:
    """The key (hex) of the user's confirmed authenticator, made once and kept."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device, _created = TOTPDevice.objects.get_or_create(
        user=user, name="bench", defaults={"confirmed": True}
    )
    return device.key


def _verified(client, username: str) -> None:
    """Mark the test client's session as signed in with the second factor, as the code
    step does (django-otp keeps the device's id in the session)."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user__username=username, confirmed=True).first()
    if device is not None:
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()


# --- SQL per request ----------------------------------------------------------------------


def step_sqlcount(args) -> dict:
    """Queries per request of each scenario: one instrumented request through the test
    client (after a warm-up request), on both databases; outside the load run. Also the
    time of the request alone (median of three, test client, nothing else running)."""
    from django.db import connections
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from crm.models import User

    scenarios = json.loads(args.scenarios)
    counts = {}
    for scenario in scenarios:
        client = Client(HTTP_X_FORWARDED_PROTO="https")
        client.force_login(User.objects.get(username=scenario["user"]))
        _verified(client, scenario["user"])
        kwargs = {"secure": True}
        headers = {k: v for k, v in scenario.get("headers", {}).items() if k != "Cookie"}
        for name, value in headers.items():
            if name.lower() in ("x-csrftoken", "referer", "content-type"):
                continue
            kwargs["HTTP_" + name.upper().replace("-", "_")] = value

        def call(scenario=scenario, kwargs=kwargs, client=client):
            if scenario["method"] == "GET":
                return client.get(scenario["path"], **kwargs)
            content_type = scenario.get("content_type", "application/x-www-form-urlencoded")
            return client.post(
                scenario["path"],
                data=scenario["body"],
                content_type=content_type,
                **kwargs,
            )

        call()  # warm-up: per-process caches (content types, permissions) filled
        with (
            CaptureQueriesContext(connections["default"]) as default,
            CaptureQueriesContext(connections["keys"]) as keys,
        ):
            response = call()
        queries = {"default": len(default), "keys": len(keys)}  # before more requests run
        # The request alone (no concurrency, no HTTP): median of three.
        alone = []
        for _ in range(3):
            began = time.perf_counter()
            call()
            alone.append((time.perf_counter() - began) * 1000)
        counts[scenario["name"]] = {
            "status": response.status_code,
            **queries,
            "total": sum(queries.values()),
            "alone_ms": round(sorted(alone)[1], 1),
        }
    return counts


# --- import and export --------------------------------------------------------------------


def _import_csv(start: int, count: int, owner: str) -> bytes:
    """``count`` customers of the data set (records start..) as the import's CSV columns.

    New records beyond the loaded N (so none is a duplicate), with valid mainland mobiles
    and social credit codes derived from the index, as the loader derives them.
    """
    import csv
    import io

    from bench import crm_dataset, mapping

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["name", "kind", "phone", "email", "address", "id_type", "id_number",
                     "business_type", "tier", "owner"])  # fmt: skip
    types = ["national-parts-distributor", "national-supplies-dealer",
             "regional-electrical-store", "regional-specialty-store",
             "regional-mass-merchandiser", "regional-diy-store"]  # fmt: skip
    for record in crm_dataset.generate(start + count, start=start):
        card = mapping.organisation_card(record)
        writer.writerow(
            [
                card["name"],
                "organisation",
                card["phone"],
                card["email"],
                card["headquarters_address"],
                "social_credit_code",
                card["document"],
                types[card["industry_index"] % len(types)],
                "b",
                owner,
            ]
        )
    return out.getvalue().encode("utf-8")


def step_import(args) -> dict:
    """Import ``count`` new customers from CSV through the real import (job → checks →
    ``customer_create`` per row), as the rep who owns them; rows per second."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from crm.models import User
    from customers.models import Customer, ImportJob
    from customers.services.import_jobs import import_job_create

    actor = User.objects.get(username=args.user)
    data = _import_csv(args.start, args.count, actor.username)
    before = Customer.objects.count()
    upload = SimpleUploadedFile("bench-import.csv", data, content_type="text/csv")
    started = time.monotonic()
    # Celery runs eagerly in the bench: the job runs when import_job_create commits.
    job = import_job_create(
        actor=actor, upload=upload, target=ImportJob.Target.CUSTOMERS, mode="valid_rows"
    )
    seconds = time.monotonic() - started
    job.refresh_from_db()
    created = Customer.objects.count() - before
    return {
        "rows": args.count,
        "status": job.status,
        "imported": job.rows_imported,
        "invalid": job.rows_invalid,
        "errors": job.errors[:3],
        "created": created,
        "seconds": round(seconds, 2),
        "rows_per_second": round(job.rows_imported / seconds, 1) if seconds else None,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def step_export(args) -> dict:
    """Export up to ``count`` customers to CSV through the real export service as the GM
    (masked; in the foreground, as the background worker builds it); rows per second."""
    from crm.models import User
    from customers.services.exports import customer_export

    actor = User.objects.get(username="gm")
    started = time.monotonic()
    result = customer_export(actor=actor, filter_params={}, fmt="csv", background=False)
    size = rows = 0
    for chunk in result.chunks:
        size += len(chunk)
    rows = result.count
    seconds = time.monotonic() - started
    return {
        "rows": rows,
        "bytes": size,
        "seconds": round(seconds, 2),
        "rows_per_second": round(rows / seconds, 1) if seconds else None,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


# --- profile of the slowest page ----------------------------------------------------------


def step_explain(args) -> dict:
    """EXPLAIN ANALYZE of the list's count and page queries for one user."""
    from django.db import connection

    from crm.models import User
    from customers import selectors

    user = User.objects.get(username=args.user)
    queryset = selectors.customer_list(user=user).order_by("code")
    plans = {}
    count_sql, count_params = (
        queryset.order_by().values("pk").query.sql_with_params()
    )  # the paginator's COUNT(*) runs over this
    # Page 200 as the paginator serves it: clamped to the user's last page.
    pages = max(1, -(-queryset.count() // 25))
    page = min(200, pages)
    page_sql, page_params = queryset[(page - 1) * 25 : page * 25].query.sql_with_params()
    with connection.cursor() as cursor:
        for name, sql, params in (
            ("count", f"SELECT COUNT(*) FROM ({count_sql}) subquery", count_params),
            (f"page_{page}", page_sql, page_params),
        ):
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS, SETTINGS) " + sql, params)
            plans[name] = [row[0] for row in cursor.fetchall()]
    return {"user": args.user, "plans": plans}


# --- reports --------------------------------------------------------------------------------


def step_reports(args) -> dict:
    """Each analytics report cold and the bare SQL aggregate it is built on (item 3), for the
    whole company (as the monthly run computes them) and through the general manager's
    visibility (as the pages do); the peak memory of this process is the report job's."""
    from bench import scenarios_analytics
    from crm.models import User

    gm = User.objects.get(username="gm")
    result = {
        "company": scenarios_analytics.run_all(user=None),
        "gm": scenarios_analytics.run_all(user=gm),
    }
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return result


STEPS = {
    "build": step_build,
    "migrate": step_migrate,
    "info": step_info,
    "sqlcount": step_sqlcount,
    "import": step_import,
    "export": step_export,
    "explain": step_explain,
    "reports": step_reports,
}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.tasks")
    parser.add_argument("step", choices=sorted(STEPS))
    parser.add_argument("--n", type=int, default=0)
    parser.add_argument("--interactions", type=int, default=0)
    parser.add_argument("--params-hash", default="")
    parser.add_argument("--params", default="{}")
    parser.add_argument("--scenarios", default="[]")
    parser.add_argument("--user", default="gm")
    parser.add_argument("--start", type=int, default=0)
    parser.add_argument("--count", type=int, default=0)
    args = parser.parse_args(argv)
    _setup()
    _emit(STEPS[args.step](args))


if __name__ == "__main__":
    sys.exit(main())
