"""The customers app's modules depend one way (DESIGN §2, issue 7 "Shape"):

tasks → services → selectors/permissions → models. A service queues a task by its name
(``crm.queueing``) and never imports ``customers.tasks``; a selector never imports a service.
Checked on the source (any import, module level or inside a function), and by importing each
module first in a fresh interpreter.
"""

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

from crm import queueing
from customers.services import campaigns, import_jobs

ROOT = Path(__file__).resolve().parents[2]
CUSTOMERS = ROOT / "customers"


def _imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports, wherever the import statement is."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _sources(*relative: str) -> list[Path]:
    paths = []
    for name in relative:
        path = CUSTOMERS / name
        paths.extend(sorted(path.glob("*.py")) if path.is_dir() else [path])
    return paths


@pytest.mark.parametrize(
    "path",
    _sources("services", "selectors.py", "permissions.py"),
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_services_selectors_and_permissions_never_import_the_tasks(path):
    imported = _imported_modules(path)
    assert not {m for m in imported if m == "customers.tasks" or m.startswith("customers.tasks.")}


@pytest.mark.parametrize(
    "path", _sources("selectors.py", "permissions.py"), ids=lambda p: str(p.relative_to(ROOT))
)
def test_selectors_and_permissions_never_import_a_service(path):
    imported = _imported_modules(path)
    assert not {m for m in imported if m.startswith("customers.services")}


def test_the_tasks_import_the_services_at_module_level():
    tree = ast.parse((CUSTOMERS / "tasks.py").read_text())
    functions = [n for n in tree.body if isinstance(n, ast.FunctionDef)]
    nested = [
        n for f in functions for n in ast.walk(f) if isinstance(n, ast.Import | ast.ImportFrom)
    ]
    assert nested == []


@pytest.mark.parametrize(
    "first",
    [
        "customers.tasks",
        "customers.services",
        "customers.services.campaigns",
        "customers.services.import_jobs",
        "customers.services.cards",
        "customers.selectors",
    ],
)
def test_each_module_imports_first_in_a_fresh_interpreter(first):
    program = (
        "import django; django.setup(); import importlib; "
        f"importlib.import_module({first!r}); "
        "import customers.tasks, customers.services, customers.selectors"
    )
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"}
    done = subprocess.run(
        [sys.executable, "-c", program],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]


def test_every_task_a_service_queues_is_registered():
    for name in (campaigns.CAMPAIGN_SEND_TASK, import_jobs.IMPORT_JOB_RUN_TASK):
        assert queueing.registered_task(name).name == name
