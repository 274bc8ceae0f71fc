"""Case screens: page."""
