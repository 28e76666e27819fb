"""h2o-py's model package: the model handle (ModelBase) and its metrics."""

from h2ocloud.client.models import H2ODeepLearningModel
from h2ocloud.model.metrics import (
    H2OAutoEncoderModelMetrics,
    H2OBinomialModelMetrics,
    H2OModelMetrics,
    H2OMultinomialModelMetrics,
    H2ORegressionModelMetrics,
)

ModelBase = H2ODeepLearningModel  # h2o-py's base of every trained model

__all__ = ["ModelBase", "H2ODeepLearningModel", "H2OModelMetrics", "H2OBinomialModelMetrics",
           "H2OMultinomialModelMetrics", "H2ORegressionModelMetrics", "H2OAutoEncoderModelMetrics"]
