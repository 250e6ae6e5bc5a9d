"""The Python API: what the commands call, importable from the package, loaded on first use."""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import kayse_pipeline
from kayse_pipeline.sandbox.core import DIR_ENV

ROOT = Path(__file__).resolve().parents[1]


def test_importing_the_package_loads_no_stage() -> None:
    code = "import sys, kayse_pipeline; print(' '.join(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    loaded = done.stdout.split()
    assert not [m for m in loaded if m.split(".")[0] in ("httpx", "yaml", "jsonschema", "click")]
    assert not [
        m for m in loaded if m.startswith("kayse_pipeline.") and m != "kayse_pipeline.errors"
    ]


def test_every_name_of_the_api_resolves_and_plan_stays_the_function() -> None:
    for name in kayse_pipeline.__all__:
        assert getattr(kayse_pipeline, name) is not None, name
    importlib.import_module("kayse_pipeline.plan.destroy")  # a subpackage named like it

    assert callable(kayse_pipeline.plan) and kayse_pipeline.plan.__name__ == "plan"
    assert isinstance(kayse_pipeline.KayseError, type)


def test_plan_apply_and_destroy_through_the_api(tmp_path: Path) -> None:
    manifest = tmp_path / "quickstart.yaml"
    shutil.copy(ROOT / "manifests" / "quickstart.yaml", manifest)
    env = dict(os.environ) | {DIR_ENV: str(tmp_path / "sandbox")}
    options = kayse_pipeline.Options(manifest=manifest, sandbox=True, env=env)
    assert kayse_pipeline.plan(options).plan.has_changes
    _, result = kayse_pipeline.apply(options)
    assert result.ok and result.counts()["contact"] == {"created": 1}
    assert not kayse_pipeline.plan(options).plan.has_changes
    doomed, removed = kayse_pipeline.destroy(options)
    assert removed.ok and doomed.count("delete") == 2
