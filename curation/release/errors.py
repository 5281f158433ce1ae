"""The one error type of the release stage: a user-facing problem whose message says what to change."""

from curation.errors import UserError


class ReleaseError(UserError, ValueError):
    """A release that must not be produced (bad rule, empty selection, existing version, failed validation...)."""
