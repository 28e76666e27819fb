"""Grid search, where h2o-py has it: ``from h2ocloud.grid import H2OGridSearch``."""

from h2ocloud.grid.grid_search import H2OGridSearch, get_grid

__all__ = ["H2OGridSearch", "get_grid"]
