"""Session stores: in process memory for a local run, Redis for production and scale-out."""

from handoff.store.base import SessionStore, StoreUnavailable
from handoff.store.memory import MemoryStore

__all__ = ["MemoryStore", "SessionStore", "StoreUnavailable"]
