"""h2ocloud: distributed deep learning in the style of H2O.

`import h2ocloud as h2o` gives the client API H2O's Python users know (h2o.init, h2o.import_file,
H2ODeepLearningEstimator, ...). The daemon lives in h2ocloud.node, the kernels in h2ocloud.kernel.
"""

__version__ = "0.1.0"

# h2o-py's module layout, reachable as attributes too (h2o.estimators.deeplearning...).
from h2ocloud import estimators, exceptions, model, two_dim_table, utils  # noqa: E402,F401
from h2ocloud.client import *  # noqa: E402,F401,F403
from h2ocloud.client import __all__ as _client_all  # noqa: E402
from h2ocloud.utils import shared_utils, typechecks  # noqa: E402,F401

__all__ = ["__version__", *_client_all]
