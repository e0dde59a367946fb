"""`saeprobe sweep --executor ray` on a two-node Ray cluster that the tests start themselves, on loopback only
(`ray start --head --node-ip-address=127.0.0.1`, a second `ray start --address ... --node-ip-address=127.0.0.1`, own
temp dir, stopped at the end): the same AUCs as the local executor, tasks on both nodes, a SIGKILLed worker costs only
its task. Deselect with `-m 'not ray'`; CI runs them."""
import os, signal, socket, subprocess, sys, tempfile, threading, time, uuid, shutil
from pathlib import Path
import pandas as pd
import pytest

pytestmark = pytest.mark.ray
KEY = ["model", "layer", "sae", "dataset", "regime", "regime_value", "method", "k"]
# `ray start`, keeping 127.0.0.1 as given (Ray on Linux would swap it for the interface address: `sweep.keep_loopback`)
_RAY = ('import sys, ray; from saeprobe.sweep import keep_loopback; keep_loopback(ray); '
        'from ray.scripts.scripts import main; sys.argv[0] = "ray"; sys.exit(main())')

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0)); return s.getsockname()[1]

def _ours(marker: str) -> list:
    "Every process started under this cluster's marker (Ray's daemons, workers and agents inherit the environment)."
    import psutil
    tag, out = f"SAEPROBE_TEST_CLUSTER={marker}".encode(), []
    for p in psutil.process_iter():
        try:   # the raw bytes: a process that sets its title (Ray's agents) blanks the start of its environment block
            if tag in Path(f"/proc/{p.pid}/environ").read_bytes(): out.append(p)
        except (psutil.Error, OSError): pass
    return out

@pytest.fixture(scope="module")
def cluster():
    "A head and a worker node on 127.0.0.1 (one CPU each), in a temp dir of their own; killed and removed after."
    pytest.importorskip("ray")
    import psutil
    tmp = Path(tempfile.mkdtemp(prefix="rt", dir="/tmp"))       # short: Ray's socket paths must stay < 108 bytes
    marker, port = uuid.uuid4().hex, _free_port()
    # its own settings, whatever ~/.ray holds (a token left by another Ray makes a head demand it): loopback only, no token
    env = {**os.environ, "SAEPROBE_TEST_CLUSTER": marker, "RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_MODE": "disabled"}
    common = ["--node-ip-address=127.0.0.1", "--num-cpus=1", "--disable-usage-stats", "--object-store-memory=200000000"]
    try:
        for args in (["--head", f"--port={port}", f"--temp-dir={tmp}", "--include-dashboard=false"],
                     [f"--address=127.0.0.1:{port}"]):
            r = subprocess.run([sys.executable, "-c", _RAY, "start", *args, *common], env=env, capture_output=True,
                               text=True, timeout=120)
            assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
        yield f"127.0.0.1:{port}", marker
    finally:
        for p in _ours(marker):
            try: p.kill()
            except psutil.Error: pass
        psutil.wait_procs(_ours(marker), timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)
        assert [p for p in _ours(marker) if p.status() != psutil.STATUS_ZOMBIE] == [], "a Ray process outlived the test"

def _listening_off_loopback(marker: str) -> list:
    "Sockets the cluster's processes listen on, or are connected to, at an address that is not loopback."
    import psutil
    bad = []
    for p in _ours(marker):
        try: conns = p.net_connections(kind="inet")
        except (psutil.Error, OSError): continue
        for c in conns:
            for addr in (c.laddr, c.raddr):
                if addr and addr.ip not in ("127.0.0.1", "::ffff:127.0.0.1", "::1"): bad.append((p.name(), c))
    return bad

def _sweep(m, saes, cache, out, **kw):
    from saeprobe.sweep import SweepConfig, run_sweep
    os.environ["RAY_AUTH_MODE"] = "disabled"          # the driver speaks to the test cluster as it was started
    return run_sweep(SweepConfig(profile="smoke", models=(m,), saes=tuple(saes), cache_dir=str(cache), out=str(out),
                                 figures=False, **kw), progress=False)

def test_ray_sweep_matches_local_and_uses_both_nodes(cluster, smoke, smoke_saes, tmp_path):
    address, marker = cluster
    m, _, _ = smoke
    local = _sweep(m, smoke_saes[:3], tmp_path / "cache-local", tmp_path / "local")
    ray_ = _sweep(m, smoke_saes[:3], tmp_path / "cache-ray", tmp_path / "ray", executor="ray", ray_address=address)
    assert ray_["failed"] == [] and ray_["manifest"]["tasks"] == local["manifest"]["tasks"]
    assert ray_["manifest"]["tasks"]["baselines"]["computed"] == 4      # once for the three SAEs, on Ray too
    a, b = (r["results"].set_index(KEY).sort_index() for r in (local, ray_))
    pd.testing.assert_frame_equal(a[["test_auc", "val_auc", "C"]], b[["test_auc", "val_auc", "C"]])
    nodes = ray_["manifest"]["nodes"]
    assert len(nodes) == 2 and all(k.startswith("ray:") for k in nodes), nodes     # tasks landed on both nodes
    assert _listening_off_loopback(marker) == []

def test_sigkilled_ray_worker_costs_only_its_task(cluster, smoke, smoke_saes, tmp_path):
    "SIGKILL (by pid) a worker while it runs a probe task: Ray retries the task, the sweep completes, nothing lost."
    import psutil
    address, marker = cluster
    m, _, _ = smoke
    datasets = ("95_toxic_is", "117_us_state_FL", "118_us_state_CA", "5_hist_fig_ismale")
    killed, stop = [], threading.Event()
    def hunt():   # a worker shows its task as its process title while it runs it
        while not stop.is_set() and not killed:
            for p in _ours(marker):
                try:
                    if "ray::probe_task" in " ".join(p.cmdline()):
                        os.kill(p.pid, signal.SIGKILL); killed.append(p.pid); break
                except (psutil.Error, OSError): pass
            time.sleep(0.02)
    t = threading.Thread(target=hunt, daemon=True); t.start()
    try: r = _sweep(m, smoke_saes, tmp_path / "cache", tmp_path / "out", executor="ray", ray_address=address,
                    datasets=datasets, methods=("logreg", "pca", "mlp", "sae"))
    finally: stop.set(); t.join(5)
    assert killed, "no probe task was caught running: nothing was tested"
    assert r["failed"] == [] and r["manifest"]["complete"]
    n = len(datasets)
    assert r["manifest"]["tasks"]["baselines"] == {"computed": 3 * n, "cached": 0, "failed": 0}
    assert r["manifest"]["tasks"]["sae_probes"] == {"computed": 4 * n, "cached": 0, "failed": 0}
    df = r["results"]
    assert not df.duplicated(KEY).any() and df.dataset.nunique() == n and df.sae.nunique() == 4
    assert len(list((tmp_path / "cache" / "tasks").rglob("*.parquet"))) == 7 * n

def test_ray_missing_and_unreachable_are_one_line_errors(smoke, tmp_path, monkeypatch):
    from saeprobe.core import SaeprobeError
    from saeprobe.sweep import SweepConfig, import_ray, run_sweep
    m, _, _ = smoke
    t = time.time()
    with pytest.raises(SaeprobeError, match=r"Ray address '127.0.0.1:\d+' does not answer"):
        run_sweep(SweepConfig(profile="smoke", models=(m,), executor="ray", ray_address=f"127.0.0.1:{_free_port()}",
                              cache_dir=str(tmp_path / "c"), out=str(tmp_path / "o")), progress=False)
    assert time.time() - t < 60
    monkeypatch.setitem(sys.modules, "ray", None)           # as if Ray were not installed
    with pytest.raises(SaeprobeError, match=r"needs Ray, which is not installed: pip install 'saeprobe\[ray\]'"):
        import_ray()
    with pytest.raises(SaeprobeError, match="needs Ray"):
        run_sweep(SweepConfig(profile="smoke", models=(m,), executor="ray", cache_dir=str(tmp_path / "c"),
                              out=str(tmp_path / "o2")), progress=False)
    assert not (tmp_path / "o2").exists()
