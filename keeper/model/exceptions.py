"""Every error the keeper raises on purpose derives from :class:`HedgevaultError`.

Messages name the field or input at fault, the value, the limit, and the fix.
"""

from __future__ import annotations


class HedgevaultError(Exception):
    """Raised for any error the project raises on purpose (the root of this module)."""


class ConfigError(HedgevaultError, ValueError):
    """Raised when configuration is invalid; the message names the field and the fix."""


class ArtifactNotFoundError(HedgevaultError, FileNotFoundError):
    """Raised when a compiled contract or an npm artifact is missing (run `make build` / `npm ci`)."""


class LinkError(HedgevaultError, ValueError):
    """Raised when bytecode still has unlinked library placeholders, or a library address is missing."""


class AnvilError(HedgevaultError, RuntimeError):
    """Raised when an anvil process cannot be started, or stops answering."""
