"""The booklet's section 3: MNIST digit classification, the trial run and its results.

    python examples/mnist_trial_run.py [DATA_DIR]   (default ../shared/data)
"""

import sys
from pathlib import Path

import h2ocloud as h2o

data = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[2] / "shared" / "data"
pixels = [f"p{i}" for i in range(784)]
h2o.init()
train = h2o.import_file(str(data / "mnist_train_10k.csv.gz"), header=-1, col_names=["label", *pixels])
test = h2o.import_file(str(data / "mnist_test.csv.gz"), header=-1, col_names=[*pixels, "label"])
train["label"] = train["label"].asfactor()
test["label"] = test["label"].asfactor()

model = h2o.deeplearning(x=pixels, y="label", training_frame=train, validation_frame=test,
                         activation="RectifierWithDropout", hidden=[200, 200, 200],
                         input_dropout_ratio=0.2, l1=1e-5, epochs=10)
print(model.params)
prediction = model.predict(test)
print(prediction.head())
print(model.confusion_matrix(valid=True))
