"""Test helper: columns and metadata as the frame layer hands them to the DL layer."""

from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"


def numeric_meta(name, v):
    v = np.asarray(v, dtype=np.float64)
    ok = v[~np.isnan(v)]
    return {"name": name, "type": "numeric", "domain": None, "mean": float(ok.mean()),
            "sigma": float(ok.std(ddof=1)) if ok.size > 1 else 0.0, "min": float(ok.min()),
            "max": float(ok.max()), "missing": int(v.size - ok.size)}


def enum_meta(name, domain, codes):
    codes = np.asarray(codes)
    ok = codes[codes >= 0]
    return {"name": name, "type": "enum", "domain": list(domain), "mean": float(ok.mean()),
            "sigma": float(ok.std()), "min": float(ok.min()), "max": float(ok.max()),
            "missing": int((codes < 0).sum())}


def frame(numeric=None, enums=None):
    """numeric: {name: float array}; enums: {name: (domain, int codes)} -> (metas, columns)."""
    metas, cols = [], {}
    for name, (domain, codes) in (enums or {}).items():
        codes = np.asarray(codes, dtype=np.int32)
        metas.append(enum_meta(name, domain, codes))
        cols[name] = codes
    for name, v in (numeric or {}).items():
        v = np.asarray(v, dtype=np.float64)
        metas.append(numeric_meta(name, v))
        cols[name] = v
    return metas, cols
