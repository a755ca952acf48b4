"""Tables of the web change, on the shared metadata of continuity.adapters.orm."""
from __future__ import annotations

from continuity.adapters.orm import metadata  # noqa: F401
