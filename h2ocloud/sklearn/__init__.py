"""scikit-learn estimators over h2ocloud's deep learning.

``from h2ocloud.sklearn import H2ODeepLearningClassifier, H2ODeepLearningRegressor,
H2OAutoEncoderTransformer``: fit/predict/predict_proba/score/transform on numpy arrays and
pandas frames, parameters from an explicit keyword signature (so ``clone``, ``Pipeline``,
``cross_val_score`` and ``GridSearchCV`` work), fitted attributes with a trailing underscore.
Training runs in the cloud the client is connected to (``h2ocloud.init(...)``), or in a local
node started on first use when there is none.
"""

from h2ocloud.sklearn.estimators import (
    H2OAutoEncoderTransformer,
    H2ODeepLearningClassifier,
    H2ODeepLearningRegressor,
)

__all__ = ["H2ODeepLearningClassifier", "H2ODeepLearningRegressor", "H2OAutoEncoderTransformer"]
