"""Case screens: lists."""
