"""`from h2ocloud.estimators.deeplearning import H2ODeepLearningEstimator, H2OAutoEncoderEstimator`."""

from h2ocloud.client.models import H2OAutoEncoderEstimator, H2ODeepLearningEstimator

__all__ = ["H2ODeepLearningEstimator", "H2OAutoEncoderEstimator"]
