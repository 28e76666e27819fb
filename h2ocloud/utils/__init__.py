"""h2o-py's utils package: the helpers its users' scripts import (shared_utils, typechecks)."""
