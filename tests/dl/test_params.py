"""Parameter validation: defaults are appendix A's, every bad value is refused by name."""

import math

import pytest

from h2ocloud.dl.params import (
    DEFAULTS,
    check_checkpoint_compatible,
    net_spec_kwargs,
    train_config_kwargs,
    validate_parameters,
)

# Appendix A of the booklet (the booklet wins over H2O-3's later defaults), except ADADELTA's
# rho / epsilon, which are H2O-3's 0.99 / 1e-8 (the booklet printed 0.95 / 1e-6).
APPENDIX_A = {
    "activation": "Tanh", "hidden": [200, 200], "epochs": 10.0, "adaptive_rate": True,
    "rho": 0.99, "epsilon": 1e-8, "rate": 0.005, "rate_annealing": 1e-6, "rate_decay": 1.0,
    "momentum_start": 0.0, "momentum_ramp": 1e6, "momentum_stable": 0.0,
    "nesterov_accelerated_gradient": True, "input_dropout_ratio": 0.0, "l1": 0.0, "l2": 0.0,
    "max_w2": math.inf, "initial_weight_distribution": "UniformAdaptive",
    "initial_weight_scale": 1.0, "loss": "Automatic", "score_interval": 5.0,
    "score_training_samples": 1000, "score_validation_samples": 0, "score_duty_cycle": 0.1,
    "classification_stop": 0.0, "regression_stop": 1e-6, "quiet_mode": False,
    "max_confusion_matrix_size": 20, "max_hit_ratio_k": 10, "balance_classes": False,
    "max_after_balance_size": 5.0, "score_validation_sampling": "Uniform", "diagnostics": True,
    "variable_importances": False, "fast_mode": True, "ignore_const_cols": True,
    "force_load_balance": True, "replicate_training_data": True, "single_node_mode": False,
    "shuffle_training_data": False, "use_all_factor_levels": True, "autoencoder": False,
    "train_samples_per_iteration": -1, "classification": None, "model_id": None,
    "checkpoint": None, "reproducible": False, "nthreads": -1, "mini_batch_size": 1,
    "nfolds": 0, "sparse": False, "col_major": False,
}


def test_mini_batch_size_other_than_one_is_refused_by_name():
    assert validate_parameters({"mini_batch_size": 1})["mini_batch_size"] == 1
    with pytest.raises(ValueError, match="mini_batch_size.*only 1"):
        validate_parameters({"mini_batch_size": 10})


def test_checkpoint_fills_fixed_parameters_not_given():
    from h2ocloud.dl.params import inherit_from_checkpoint

    old = validate_parameters({"hidden": [16, 16], "activation": "Rectifier"})
    merged = validate_parameters(inherit_from_checkpoint({"epochs": 20}, old))
    assert merged["hidden"] == [16, 16] and merged["activation"] == "Rectifier"
    check_checkpoint_compatible(old, merged)
    with pytest.raises(ValueError, match="'hidden'"):
        check_checkpoint_compatible(old, validate_parameters(inherit_from_checkpoint({"hidden": [32]}, old)))


def test_defaults_are_appendix_a():
    p = validate_parameters({})
    for k, v in APPENDIX_A.items():
        assert p[k] == v, k
    assert p["hidden_dropout_ratios"] == [0.0, 0.0]
    assert isinstance(p["seed"], int)  # a random seed is drawn and recorded
    assert set(p) == set(DEFAULTS)


def test_idempotent_and_aliases():
    p = validate_parameters({"key": "m1", "hidden_dropout_ratio": [0.2],
                             "activation": "tanhwithdropout", "hidden": [5], "seed": 3,
                             "neverov_accelerated_gradient": False})
    assert p["model_id"] == "m1" and p["activation"] == "TanhWithDropout"
    assert p["hidden_dropout_ratios"] == [0.2] and p["nesterov_accelerated_gradient"] is False
    assert validate_parameters(p) == p
    assert validate_parameters({"destination_key": "k"})["model_id"] == "k"


def test_with_dropout_defaults_to_half():
    p = validate_parameters({"activation": "RectifierWithDropout", "hidden": [4, 4, 4]})
    assert p["hidden_dropout_ratios"] == [0.5, 0.5, 0.5]


@pytest.mark.parametrize("bad,name", [
    ({"bogus": 1}, "bogus"),
    ({"epochs": -1}, "epochs"),
    ({"epochs": "ten"}, "epochs"),
    ({"hidden": []}, "hidden"),
    ({"hidden": [10, 0]}, "hidden"),
    ({"hidden": [10, -3]}, "hidden"),
    ({"hidden": "200"}, "hidden"),
    ({"hidden": [1.5]}, "hidden"),
    ({"activation": "Sigmoid"}, "activation"),
    ({"initial_weight_distribution": "Cauchy"}, "initial_weight_distribution"),
    ({"loss": "Logistic"}, "loss"),
    ({"loss": "Huber", "classification": True}, "loss"),
    ({"loss": "Absolute", "distribution": "poisson"}, "loss"),
    ({"tweedie_power": 2.0}, "tweedie_power"),
    ({"quantile_alpha": 1.5}, "quantile_alpha"),
    ({"huber_alpha": -0.1}, "huber_alpha"),
    ({"input_dropout_ratio": 1.0}, "input_dropout_ratio"),
    ({"input_dropout_ratio": -0.1}, "input_dropout_ratio"),
    ({"activation": "TanhWithDropout", "hidden_dropout_ratios": [0.5, 1.0]},
     "hidden_dropout_ratios"),
    ({"activation": "TanhWithDropout", "hidden_dropout_ratios": [0.5]},
     "hidden_dropout_ratios"),
    ({"activation": "Tanh", "hidden_dropout_ratios": [0.5, 0.5]}, "hidden_dropout_ratios"),
    ({"rho": 1.0}, "rho"),
    ({"rho": -0.5}, "rho"),
    ({"epsilon": 0.0}, "epsilon"),
    ({"epsilon": 2.0}, "epsilon"),
    ({"rate": -0.1}, "rate"),
    ({"l1": -1e-3}, "l1"),
    ({"l2": -1}, "l2"),
    ({"max_w2": 0}, "max_w2"),
    ({"momentum_start": 1.5}, "momentum_start"),
    ({"momentum_ramp": 0}, "momentum_ramp"),
    ({"score_duty_cycle": 1.5}, "score_duty_cycle"),
    ({"score_training_samples": -5}, "score_training_samples"),
    ({"train_samples_per_iteration": -3}, "train_samples_per_iteration"),
    ({"adaptive_rate": "yes"}, "adaptive_rate"),
    ({"adaptive_rate": 1}, "adaptive_rate"),
    ({"seed": "abc"}, "seed"),
    ({"nthreads": 0}, "nthreads"),
    ({"nfolds": 1}, "nfolds"),
    ({"max_after_balance_size": 0}, "max_after_balance_size"),
    ({"score_validation_sampling": "Random"}, "score_validation_sampling"),
    ({"x": "a"}, "x"),
    ({"x": ["a", "y"], "y": "y"}, "x"),
    ({"autoencoder": True, "loss": "CrossEntropy"}, "loss"),
    ({"model_id": 5}, "model_id"),
])
def test_bad_parameter_is_refused_by_name(bad, name):
    with pytest.raises(ValueError, match=name):
        validate_parameters(bad)


def test_kernel_kwargs():
    p = validate_parameters({"activation": "MaxoutWithDropout", "hidden": [7, 3],
                             "hidden_dropout_ratios": [0.1, 0.2], "l1": 1e-4})
    s = net_spec_kwargs(p, 12, 3, classification=True)
    assert s == {"n_inputs": 12, "hidden": (7, 3), "n_outputs": 3, "activation": "Maxout",
                 "output": "softmax", "loss": "CrossEntropy",
                 "hidden_dropout_ratios": (0.1, 0.2)}
    assert net_spec_kwargs(p, 12, 1, classification=False)["loss"] == "MeanSquare"
    assert net_spec_kwargs(p, 12, 1, classification=False)["output"] == "linear"
    t = train_config_kwargs(p)
    assert t["l1"] == 1e-4 and t["rho"] == 0.99 and t["epsilon"] == 1e-8 and math.isinf(t["max_w2"])
    ae = validate_parameters({"autoencoder": True, "hidden": [3]})
    assert net_spec_kwargs(ae, 5, 5, classification=False)["output"] == "autoencoder"
    with pytest.raises(ValueError, match="loss"):
        net_spec_kwargs(validate_parameters({"loss": "CrossEntropy"}), 3, 1, False)


def test_checkpoint_compatibility():
    old = validate_parameters({"x": ["a", "b"], "y": "c", "hidden": [10], "epochs": 5})
    check_checkpoint_compatible(old, validate_parameters(
        {"x": ["b", "a"], "y": "c", "hidden": [10], "epochs": 20, "l1": 1e-5}))
    for change, name in [({"hidden": [11]}, "hidden"), ({"activation": "Rectifier"}, "activation"),
                         ({"y": "d"}, "'y'"), ({"x": ["a"]}, "'x'"),
                         ({"autoencoder": True, "y": None}, "autoencoder")]:
        new = dict(old)
        new.update(change)
        with pytest.raises(ValueError, match=name):
            check_checkpoint_compatible(old, validate_parameters(new))
