"""Every notebook under nbs/ runs as a pytest test (nbdev's test_nb), so CI prints a pytest summary."""
from pathlib import Path
import pytest
from nbdev.test import test_nb as run_nb  # not named test_*: pytest would collect it

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted(p for p in (ROOT / "nbs").rglob("*.ipynb")
                   if not any(part.startswith(("_", ".")) for part in p.relative_to(ROOT / "nbs").parts)
                   and ".ipynb_checkpoints" not in p.parts and p.name != "index.ipynb")
SKIP = ["slow", "gpu", "hub"]

@pytest.mark.parametrize("nb", NOTEBOOKS, ids=[str(p.relative_to(ROOT / "nbs")) for p in NOTEBOOKS])
def test_notebook(nb, request):
    force = request.config.getoption("--nb-flags").split()
    ok, secs = run_nb(nb, skip_flags=[f for f in SKIP if f not in force], force_flags=force)
    assert ok, f"{nb.name} failed (see the cell traceback above)"

def test_all_notebooks_found():
    "Every notebook under nbs/ is run: the count is exact, so one that stops being found fails here."
    assert len(NOTEBOOKS) == 41, [str(p.relative_to(ROOT / "nbs")) for p in NOTEBOOKS]

def test_templates_have_one_parameters_cell():
    from saeprobe.pipeline import STAGES, template, parameters_cells
    for stage in STAGES:
        assert parameters_cells(template(stage)) == 1, stage
