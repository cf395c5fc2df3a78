"""Models of the review chain (level decisions and quota use)."""

from .models_selection import *  # noqa: F401,F403
