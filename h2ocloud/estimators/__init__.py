"""h2o-py's estimators package: `from h2ocloud.estimators import H2ODeepLearningEstimator`."""

from h2ocloud.estimators.deeplearning import H2OAutoEncoderEstimator, H2ODeepLearningEstimator
from h2ocloud.estimators.estimator_base import H2OEstimator

__all__ = ["H2OEstimator", "H2ODeepLearningEstimator", "H2OAutoEncoderEstimator"]
