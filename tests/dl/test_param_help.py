"""Every deep learning parameter has help text for the console's build form (a parameter added
without it fails here, not only in the slower web tests)."""

from h2ocloud.dl.params import DEFAULTS, parameter_table


def test_every_parameter_has_help_and_a_json_default():
    rows = parameter_table()
    assert [r["name"] for r in rows if not r["help"]] == []
    assert {r["name"] for r in rows} == set(DEFAULTS) - {"x", "y", "training_frame", "validation_frame"}
    by = {r["name"]: r for r in rows}
    assert by["max_w2"]["default"] == "Infinity" and by["activation"]["choices"][0] == "Tanh"
    assert by["hidden"]["type"] == "list" and by["epochs"]["type"] == "number"
