"""Case screens: request."""
