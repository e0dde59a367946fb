"""The package's layout, checked by walking `saeprobe/` with `ast`: our modules import each other without a cycle
(imports inside functions included) and no module uses another's private (`_name`) names."""
import ast
from pathlib import Path

PKG = Path(__file__).resolve().parent.parent / "saeprobe"

def _modules() -> dict[str, Path]:
    "Dotted module name (without 'saeprobe.') -> file; a package is its `__init__`."
    out = {}
    for p in PKG.rglob("*.py"):
        if p.name == "_modidx.py": continue
        parts = p.relative_to(PKG).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        if name: out[name] = p
    return out

MODS = _modules()

def _resolve(module: str | None, level: int, here: str, is_pkg: bool) -> str | None:
    "The dotted name (without 'saeprobe.') an import refers to, or None when it is not ours."
    if level:
        base = here.split(".") if is_pkg else here.split(".")[:-1]
        base = base[:len(base) - (level - 1)] if level > 1 else base
        return ".".join(base + ([module] if module else []))      # "": the package root, saeprobe itself
    if module == "saeprobe": return ""
    if module and module.startswith("saeprobe."): return module[len("saeprobe."):]
    return None

def _imports(name: str, path: Path):
    "(edges to our modules, uses of private names of our modules) of one module, function bodies included."
    tree, is_pkg = ast.parse(path.read_text()), path.name == "__init__.py"
    edges, private, aliases = set(), [], {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            tgt = _resolve(node.module, node.level, name, is_pkg)
            if tgt is None: continue
            for a in node.names:
                sub = f"{tgt}.{a.name}" if tgt else a.name
                if sub in MODS:                                   # `from saeprobe import engine`, `from . import x`
                    edges.add(sub); aliases[a.asname or a.name] = sub
                elif tgt in MODS:
                    edges.add(tgt)
                    if a.name.startswith("_") and not a.name.startswith("__"): private.append(f"{tgt}.{a.name}")
        elif isinstance(node, ast.Import):
            for a in node.names:
                tgt = _resolve(a.name, 0, name, is_pkg)
                if tgt in MODS: edges.add(tgt); aliases[a.asname or a.name] = tgt
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases \
                and node.attr.startswith("_") and not node.attr.startswith("__"):
            private.append(f"{aliases[node.value.id]}.{node.attr}")
    edges.discard(name)
    return edges, private

GRAPH, PRIVATE = {}, {}
for _n, _p in MODS.items(): GRAPH[_n], PRIVATE[_n] = _imports(_n, _p)

def test_modules_found():
    assert {"core", "probes", "run", "engine", "engine.batched", "engine.common", "engine.saga", "engine.xgb"} <= set(MODS)
    assert GRAPH["probes"] >= {"core", "engine"} and "engine.common" in GRAPH["engine.saga"]

def test_no_private_names_across_modules():
    bad = {m: p for m, p in PRIVATE.items() if p}
    assert not bad, f"private names used across modules: {bad}"

def test_no_import_cycle():
    state, cycles = {}, []
    def visit(u, stack):
        state[u] = 1; stack.append(u)
        for v in sorted(GRAPH.get(u, ())):
            if state.get(v) == 1: cycles.append(stack[stack.index(v):] + [v])
            elif v in GRAPH and not state.get(v): visit(v, stack)
        stack.pop(); state[u] = 2
    for u in sorted(GRAPH):
        if not state.get(u): visit(u, [])
    assert not cycles, f"import cycles: {cycles}"

def test_the_checks_catch_a_cycle_and_a_private_name(tmp_path):
    "The walker itself: a planted cycle and a planted private import are found."
    global MODS
    (tmp_path / "a.py").write_text("from .b import _hidden\n"); (tmp_path / "b.py").write_text("def f():\n    from saeprobe import a\n")
    saved = dict(MODS)
    try:
        MODS = {"a": tmp_path / "a.py", "b": tmp_path / "b.py"}
        ea, pa = _imports("a", tmp_path / "a.py"); eb, _ = _imports("b", tmp_path / "b.py")
        assert ea == {"b"} and pa == ["b._hidden"] and eb == {"a"}
    finally: MODS = saved
