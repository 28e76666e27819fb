"""`from h2ocloud.model.metrics import H2OBinomialModelMetrics, ...`: metrics by model category."""

from h2ocloud.client.models import (
    H2OAutoEncoderModelMetrics,
    H2OBinomialModelMetrics,
    H2OModelMetrics,
    H2OMultinomialModelMetrics,
    H2ORegressionModelMetrics,
    metrics_for,
)

MetricsBase = H2OModelMetrics

__all__ = ["MetricsBase", "H2OModelMetrics", "H2OBinomialModelMetrics", "H2OMultinomialModelMetrics",
           "H2ORegressionModelMetrics", "H2OAutoEncoderModelMetrics", "metrics_for"]
