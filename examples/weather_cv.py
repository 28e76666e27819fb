"""The booklet's weather data (section 2.5) with 5-fold cross-validation.

    python examples/weather_cv.py [DATA_DIR]   (default ../shared/data)

Date is read as a time column (milliseconds since 1970, as H2O does); RISK_MM is the amount of
tomorrow's rain, so it leaks the target and is left out.
"""

import sys
from pathlib import Path

import h2ocloud as h2o

data = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[2] / "shared" / "data"
h2o.init()
weather = h2o.import_file(str(data / "weather.csv"))
weather["RainTomorrow"] = weather["RainTomorrow"].asfactor()
x = [c for c in weather.columns if c not in ("RainTomorrow", "RISK_MM")]

model = h2o.H2ODeepLearningEstimator(activation="Rectifier", hidden=[32, 32], epochs=50, l1=1e-4,
                                     nfolds=5, fold_assignment="Stratified", seed=1,
                                     variable_importances=True)
model.train(x=x, y="RainTomorrow", training_frame=weather)
print(f"cross-validated AUC {model.auc(xval=True):.3f}, error {model.classification_error(xval=True):.3f}")
print(model.cross_validation_metrics_summary())
print(model.varimp(use_pandas=True).head(8))
