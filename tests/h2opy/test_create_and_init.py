"""h2o.create_frame (made on the node, chunk by chunk) and h2o.init's full h2o-py signature
(issue 12)."""

from __future__ import annotations

import inspect
import warnings

import numpy as np
import pytest

from tests.cloudfixture import free_port


def test_create_frame_kinds_ranges_and_seed(h2o):
    fr = h2o.create_frame(rows=3000, cols=10, real_fraction=0.2, categorical_fraction=0.2, integer_fraction=0.2,
                          binary_fraction=0.2, time_fraction=0.1, string_fraction=0.1, factors=7,
                          real_range=5, integer_range=3, binary_ones_fraction=0.3, missing_fraction=0.1,
                          has_response=True, response_factors=3, seed=42, seed_for_column_types=1)
    assert fr.shape == (3000, 11) and fr.columns[0] == "response"
    assert fr._header["nchunks"] >= 1
    types = list(fr.types.values())[1:]
    assert sorted(types).count("enum") == 2 and types.count("string") == 1
    df = fr.as_data_frame()
    assert sorted(df["response"].dropna().astype(str).unique()) == ["0", "1", "2"]
    kinds = dict(zip(fr.columns[1:], types))
    for c, t in kinds.items():
        col = df[c]
        assert 0.07 < col.isna().mean() < 0.13, c  # missing_fraction=0.1 of 3000 cells
        if t == "enum":
            j = int(c[1:]) - 1
            assert set(col.dropna().astype(str)) <= {f"c{j}.l{i}" for i in range(7)} and len(fr[c].levels()[0]) <= 7
        elif t == "string":
            assert col.dropna().str.fullmatch(r"[0-9a-f]{8}").all()
    ints = [c for c, t in kinds.items() if t == "int"]
    reals = [c for c, t in kinds.items() if t == "real"]
    x = df[reals].to_numpy(float)
    assert np.nanmin(x) >= -5 and np.nanmax(x) <= 5 and np.nanmax(x) > 4  # uniform in +-real_range
    binary = [c for c in ints if set(df[c].dropna().unique()) <= {0, 1}]
    assert binary and all(0.25 < df[c].mean() < 0.35 for c in binary)  # binary_ones_fraction=0.3
    small = [c for c in ints if c not in binary and df[c].abs().max() <= 3]
    assert len(small) >= 2  # the integer columns, in +-integer_range
    assert fr.mean()[1:] == pytest.approx([df[c].mean() if kinds[c] in ("int", "real") else np.nan
                                           for c in fr.columns[1:]], nan_ok=True)
    again = h2o.create_frame(rows=3000, cols=10, real_fraction=0.2, categorical_fraction=0.2, integer_fraction=0.2,
                             binary_fraction=0.2, time_fraction=0.1, string_fraction=0.1, factors=7, real_range=5,
                             integer_range=3, binary_ones_fraction=0.3, missing_fraction=0.1, has_response=True,
                             response_factors=3, seed=42, seed_for_column_types=1)
    assert again.as_data_frame().equals(df)  # the same seed, the same frame
    default = h2o.create_frame(rows=50, cols=10, seed=3, frame_id="created.hex")
    assert default.frame_id == "created.hex" and list(default.types.values()).count("enum") == 2  # 20%
    const = h2o.create_frame(rows=20, cols=3, randomize=False, value=7, missing_fraction=0)
    assert (const.as_data_frame().to_numpy() == 7).all()
    with pytest.raises(ValueError, match="fractions must add up to 1"):
        h2o.create_frame(rows=10, cols=3, real_fraction=0.2, categorical_fraction=0.2)
    with pytest.raises(ValueError, match="missing_fraction"):
        h2o.create_frame(rows=10, missing_fraction=1.5)


H2O_PY_INIT = ["url", "ip", "port", "name", "https", "cacert", "insecure", "username", "password", "cookies",
               "proxy", "start_h2o", "nthreads", "ice_root", "log_dir", "log_level", "max_log_file_size",
               "enable_assertions", "max_mem_size", "min_mem_size", "strict_version_check", "ignore_config",
               "extra_classpath", "jvm_custom_args", "bind_to_localhost"]


def test_init_signature_and_refusals(h2o, cloud1, monkeypatch):
    params = list(inspect.signature(h2o.init).parameters)
    assert params[:len(H2O_PY_INIT)] == H2O_PY_INIT  # h2o-py 3.46's order, so positional calls work
    url = cloud1.nodes[0].url
    with pytest.raises(h2o.exceptions.H2OValueError, match="https=True") as e:
        h2o.init(url=url, https=True)
    assert e.value.var_name == "https"
    with pytest.raises(h2o.exceptions.H2OValueError, match="'colour'"):
        h2o.init(url=url, colour="red")
    with pytest.warns(UserWarning, match="min_mem_size is ignored: a JVM heap setting"):
        h2o.init(url=url, min_mem_size="1g", strict_version_check=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # h2o-py's defaults warn about nothing
        h2o.init(url=url, enable_assertions=True, ignore_config=True)
    from h2ocloud.client import session

    monkeypatch.setattr(session, "__version__", "0.0.1")
    with pytest.raises(h2o.exceptions.H2OConnectionError, match="strict_version_check"):
        h2o.init(url=url, strict_version_check=True)
    monkeypatch.undo()
    h2o.init(url=url)


def test_init_starts_a_node_with_the_settings_that_apply(tmp_path):
    import h2ocloud as h2o
    from h2ocloud.client import session

    before = session._current
    port = free_port()
    try:
        with pytest.warns(UserWarning, match="jvm_custom_args is ignored"):
            conn = h2o.init(port=port, name="issue12_init", nthreads=1, max_mem_size_GB=1,
                            ice_root=str(tmp_path / "ice"), log_dir=str(tmp_path / "logs"), log_level="DEBUG",
                            jvm_custom_args=["-Xss4m"])
        assert conn.owned_process is not None and conn.url.endswith(f":{port}")
        status = h2o.cluster()
        assert status.cloud_name == "issue12_init"
        cmd = conn.owned_process.proc.args
        assert cmd[cmd.index("--nthreads") + 1] == "1" and cmd[cmd.index("--max-mem") + 1] == "1g" and cmd[cmd.index("--data-dir") + 1] == str(tmp_path / "ice")
        assert (tmp_path / "ice").is_dir()
        assert conn.owned_process.log_path.startswith(str(tmp_path / "logs"))
        assert "DEBUG" in open(conn.owned_process.log_path).read()
    finally:
        conn = session._current
        if conn is not None and conn is not before:
            if conn.owned_process is not None:
                conn.owned_process.stop()
            conn.close()
        session._current = before


@pytest.mark.slow
def test_remove_all_on_three_nodes():
    """h2o.remove_all() empties a 3-node cloud of its own (the shared clouds hold other tests' frames)."""
    import h2ocloud as h2o
    from h2ocloud.client import session
    from tests.cloudfixture import start_cloud

    before = session._current
    try:
        with start_cloud(3, args=["--heartbeat-timeout", "3"]) as cloud:
            h2o.init(url=cloud.nodes[0].url)
            fr = h2o.create_frame(rows=500, cols=3, seed=1, frame_id="ra.hex", categorical_fraction=0,
                                  integer_fraction=0, binary_fraction=0)
            h2o.deeplearning(x=["C1", "C2"], y="C3", training_frame=fr, hidden=[2], epochs=1)
            assert len(h2o.ls()) >= 2
            h2o.remove_all()
            assert h2o.ls() == []
            for node in cloud.nodes[1:]:  # every member agrees
                h2o.init(url=node.url)
                assert h2o.ls() == []
    finally:
        if session._current is not None and session._current is not before:
            session._current.close()
        session._current = before
