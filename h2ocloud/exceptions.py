"""h2o-py's exception classes (`from h2o.exceptions import H2OResponseError, ...`).

H2OResponseError: the cloud refused or failed a request (a bad parameter, an unknown frame); the
client raises a subclass that is also the plain Python kind (ValueError, NotFound, ...).
H2OValueError / H2OTypeError: the client refused an argument before sending anything; they are
ValueError / TypeError too, so code catching the builtin kinds keeps working.
"""

from __future__ import annotations

from h2ocloud.errors import Cancelled, H2OCloudError, H2OResponseError, NodeUnavailable, NotFound

H2OError = H2OCloudError


class H2OSoftError(H2OError):
    """A user error reported before anything is sent to the cloud (h2o-py's base of
    H2OValueError and H2OTypeError)."""


class H2OValueError(H2OSoftError, ValueError):
    """An argument has a value the client refuses; `var_name` names the argument."""

    def __init__(self, message: str, var_name: str | None = None):
        super().__init__(message)
        self.var_name = var_name


class H2OTypeError(H2OSoftError, TypeError):
    """An argument has the wrong type; `var_name` names the argument."""

    def __init__(self, message: str, var_name: str | None = None):
        super().__init__(message)
        self.var_name = var_name


class H2OServerError(H2OError):
    """The cloud failed in a way that is not the request's fault (h2o-py's 500)."""


class H2OConnectionError(H2OError, ConnectionError):
    """No node answers at the address the client was given."""


H2OJobCancelled = Cancelled

__all__ = ["H2OError", "H2OSoftError", "H2OValueError", "H2OTypeError", "H2OResponseError",
           "H2OServerError", "H2OConnectionError", "H2OJobCancelled", "NotFound", "NodeUnavailable"]
