"""Nothing received over the network or read from a user's file is unpickled or evaluated: the
package's source holds no pickle (or its kin), no eval / exec / compile of text, no numpy load
that allows pickles, no unsafe YAML. Checked on the syntax tree (comments and docstrings that
say "never pickled" do not count), with a self-test that the checker catches each form."""

from __future__ import annotations

import ast
from pathlib import Path

import h2ocloud

ROOT = Path(h2ocloud.__file__).parent

# Modules whose loading runs code chosen by the bytes: any import of them is refused.
UNSAFE_MODULES = {"pickle", "cPickle", "_pickle", "dill", "cloudpickle", "marshal", "shelve", "joblib",
                  "jsonpickle", "copyreg"}
UNSAFE_BUILTINS = {"eval", "exec", "compile", "__import__", "execfile"}
UNSAFE_ATTRS = {"read_pickle", "to_pickle", "loads_pickle"}  # pandas' pickle readers and kin
# importlib.import_module runs module code: allowed only where the node's operator names the
# modules (--preload, on the command line) or the package names its own, never a request.
IMPORT_MODULE_ALLOWED = {"node/server.py"}


def _name(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_name(node.value)}.{node.attr}"
    return ""


def findings(source: str, rel: str) -> list[str]:
    """Every unsafe use in one module's source, as 'path:line what'."""
    out = []
    for n in ast.walk(ast.parse(source)):
        where = f"{rel}:{getattr(n, 'lineno', 0)}"
        if isinstance(n, ast.Import):
            out += [f"{where} imports {a.name}" for a in n.names if a.name.split(".")[0] in UNSAFE_MODULES]
        elif isinstance(n, ast.ImportFrom) and n.module and n.module.split(".")[0] in UNSAFE_MODULES:
            out.append(f"{where} imports from {n.module}")
        elif isinstance(n, ast.Call):
            fn = _name(n.func)
            last = fn.rsplit(".", 1)[-1]
            kwargs = {k.arg: k.value for k in n.keywords if k.arg}
            if fn in UNSAFE_BUILTINS or fn in {f"builtins.{b}" for b in UNSAFE_BUILTINS}:
                out.append(f"{where} calls {fn}()")
            elif last in UNSAFE_ATTRS:
                out.append(f"{where} calls {fn}()")
            elif fn in ("np.load", "numpy.load"):
                flag = kwargs.get("allow_pickle")
                if not (isinstance(flag, ast.Constant) and flag.value is False):
                    out.append(f"{where} calls {fn}() without allow_pickle=False")
            elif fn in ("yaml.load", "yaml.unsafe_load", "yaml.full_load"):
                out.append(f"{where} calls {fn}() (use yaml.safe_load)")
            elif last == "import_module" and rel not in IMPORT_MODULE_ALLOWED:
                out.append(f"{where} calls {fn}() outside {sorted(IMPORT_MODULE_ALLOWED)}")
    return out


def test_the_package_never_unpickles_or_evaluates():
    found = []
    files = sorted(ROOT.rglob("*.py"))
    assert len(files) > 50  # the whole package is scanned, generated code and templates included
    for path in files:
        rel = path.relative_to(ROOT).as_posix()
        found += findings(path.read_text(encoding="utf-8"), rel)
    assert not found, "unsafe deserialization or evaluation:\n" + "\n".join(found)


def test_the_checker_catches_each_form():
    bad = """
import pickle
from cloudpickle import loads
import numpy as np
import yaml, importlib, pandas as pd
eval(text)
exec(code)
compile(src, "x", "exec")
__import__(name)
np.load(f)
np.load(f, allow_pickle=True)
yaml.load(s)
pd.read_pickle(p)
importlib.import_module(request_name)
"""
    got = findings(bad, "h2ocloud/web/routes.py")
    for what in ("imports pickle", "imports from cloudpickle", "calls eval()", "calls exec()", "calls compile()",
                 "calls __import__()", "np.load() without allow_pickle=False", "calls yaml.load()",
                 "calls pd.read_pickle()", "calls importlib.import_module()"):
        assert any(what in g for g in got), (what, got)
    assert len([g for g in got if "np.load" in g]) == 2
    ok = "import json\nimport numpy as np\njson.loads(s)\nnp.load(f, allow_pickle=False)\nx = 'eval(1)'  # pickle\n"
    assert findings(ok, "h2ocloud/x.py") == []
