"""Shared pytest set-up.

* Every database test may use both aliases (``default`` and ``keys``): customers'
  data keys live in the second one.
* Celery runs eagerly unless a test is marked ``celery_worker``.
"""

import pytest


def pytest_collection_modifyitems(items):
    for item in items:
        marker = item.get_closest_marker("django_db")
        if marker is not None and "databases" not in marker.kwargs:
            item.add_marker(
                pytest.mark.django_db(*marker.args, databases="__all__", **marker.kwargs),
                append=False,
            )


@pytest.fixture(autouse=True)
def _eager_celery(request):
    from crm.celery import app

    if request.node.get_closest_marker("celery_worker"):
        yield
        return
    from celery.result import allow_join_result

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    # Celery's "never join inside a task" guard is one process-wide flag. Eager
    # ``.delay()`` calls from several threads at once (the concurrency tests) can
    # leave it raised; the test process is not a worker, so each test starts lowered.
    with allow_join_result():
        yield
    app.conf.task_always_eager = previous


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """Rate-limit counters live in the cache: each test starts with none."""
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture(autouse=True)
def _fresh_key_cache():
    from crm.encryption import clear_key_cache

    clear_key_cache()
    yield
    clear_key_cache()


class _QueryCounts:
    """Queries run on each database alias inside an ``assert_queries`` block."""

    def __init__(self, contexts):
        self.contexts = contexts

    def __getitem__(self, alias) -> int:
        return len(self.contexts[alias])

    def as_dict(self) -> dict[str, int]:
        return {alias: len(context) for alias, context in self.contexts.items()}

    def listing(self, alias) -> str:
        return "\n".join(
            f"  {i}. {query['sql']}" for i, query in enumerate(self.contexts[alias], start=1)
        )


@pytest.fixture
def assert_queries():
    """``with assert_queries(default=N, keys=M): ...`` — the exact number of queries on the
    business database and on the keys database (data keys, search digests). A count left
    out is not checked; the block's counts are returned for further checks."""
    import contextlib

    from django.db import connections
    from django.test.utils import CaptureQueriesContext

    @contextlib.contextmanager
    def check(**expected):
        unknown = set(expected) - set(connections)
        if unknown:
            raise ValueError(f"unknown database aliases: {sorted(unknown)}")
        with contextlib.ExitStack() as stack:
            contexts = {
                alias: stack.enter_context(CaptureQueriesContext(connections[alias]))
                for alias in ("default", "keys")
            }
            counts = _QueryCounts(contexts)
            yield counts
        wrong = {
            alias: (count, counts[alias])
            for alias, count in expected.items()
            if count is not None and counts[alias] != count
        }
        if wrong:
            lines = [
                f"{alias}: expected {want} queries, ran {got}:\n{counts.listing(alias)}"
                for alias, (want, got) in wrong.items()
            ]
            pytest.fail("\n".join(lines), pytrace=False)

    return check


# --- browser tests (tests/browser.py) ---------------------------------------------------


@pytest.fixture
def live_url():
    """A live server for this test only, stopped (and its connections closed) after it."""
    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from django.test.testcases import LiveServerThread

    server = LiveServerThread("localhost", StaticFilesHandler, port=0)
    server.daemon = True
    server.start()
    server.is_ready.wait()
    if server.error:
        raise server.error
    yield f"http://localhost:{server.port}"
    server.terminate()


@pytest.fixture
def browser_page():
    """A page of the system Chromium (never a downloaded browser)."""
    from playwright.sync_api import sync_playwright

    from tests.browser import CHROMIUM

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        page = browser.new_page()
        page.set_default_timeout(15_000)
        yield page
        browser.close()
