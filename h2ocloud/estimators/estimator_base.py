"""`from h2ocloud.estimators.estimator_base import H2OEstimator`: the base of the estimators."""

from h2ocloud.client.models import H2OEstimator

__all__ = ["H2OEstimator"]
