"""Every notebook in notebooks/ runs top to bottom against a store and registry this test prepares.

The kernel is this interpreter (the project's venv): a kernelspec for ``sys.executable`` is written
to a temporary Jupyter path, so whatever ``python3`` kernel the machine has elsewhere is never
used. Notebooks are committed without outputs; a committed output fails the test (it could carry
data from someone's store).
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbclient
import nbformat
import pytest

from tests.report_cycles import session_cycles

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
KERNEL = "leadscore-test"
TIMEOUT_S = 300


def test_there_are_notebooks():
    assert NOTEBOOKS, "notebooks/ holds no .ipynb"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_is_committed_without_outputs(path):
    notebook = nbformat.read(path, as_version=4)
    dirty = [i for i, c in enumerate(notebook.cells)
             if c.cell_type == "code" and (c.get("outputs") or c.get("execution_count"))]
    assert dirty == [], f"clear the outputs of {path.name} (cells {dirty})"


@pytest.fixture(scope="module")
def kernel_env(tmp_path_factory, monkeypatch_module):
    from ipykernel.kernelspec import install

    prefix = tmp_path_factory.mktemp("jupyter")
    install(kernel_name=KERNEL, prefix=str(prefix), display_name="leadscore (test)")
    monkeypatch_module.setenv("JUPYTER_PATH", str(prefix / "share" / "jupyter"))
    # the kernel's inline backend: a plot becomes the cell's image/png output
    monkeypatch_module.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    return prefix


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


@pytest.mark.integration
@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs_top_to_bottom(path, kernel_env, monkeypatch_module, tmp_path_factory):
    from jupyter_client.kernelspec import KernelSpecManager

    cycles = session_cycles(tmp_path_factory)
    for key, value in cycles.env.items():
        monkeypatch_module.setenv(key, value)
    spec = KernelSpecManager().get_kernel_spec(KERNEL)
    assert Path(spec.argv[0]).resolve() == Path(sys.executable).resolve()

    notebook = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        notebook, kernel_name=KERNEL, timeout=TIMEOUT_S, allow_errors=False,
        resources={"metadata": {"path": str(cycles.root)}},
    )
    client.execute()  # raises CellExecutionError on the first failing cell
    errors = [o for c in notebook.cells for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    assert errors == []
    # the cells tagged as shap's plots drew a picture each (a beeswarm, a lead's waterfall ...)
    for cell in notebook.cells:
        tags = cell.get("metadata", {}).get("tags", [])
        if any(t.startswith("shap-") for t in tags):
            images = [o for o in cell.get("outputs", []) if "image/png" in o.get("data", {})]
            assert images, f"{path.name}: the {tags} cell drew no image"

