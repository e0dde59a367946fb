"""README.md is generated from nbs/index.ipynb, and CI runs exactly what the README says."""
import re, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

def test_readme_matches_index_notebook(tmp_path):
    subprocess.run([sys.executable, "-m", "jupyter", "nbconvert", "--to", "markdown", str(ROOT / "nbs" / "index.ipynb"),
                    "--output-dir", str(tmp_path), "--output", "README"], check=True, capture_output=True)
    assert (tmp_path / "README.md").read_text() == (ROOT / "README.md").read_text(), \
        "README.md is stale: regenerate it with `jupyter nbconvert --to markdown nbs/index.ipynb --output-dir . --output README`"

def test_ci_runs_the_readme_commands():
    readme, ci = (ROOT / "README.md").read_text(), (ROOT / ".ci" / "run").read_text()
    blocks = re.findall(r"```sh\n(.*?)```", readme, re.S)
    install = next(b.strip() for b in blocks if b.strip().startswith("pip install"))
    test = next(b.strip() for b in blocks if "pytest" in b)
    assert install in ci and test in ci
