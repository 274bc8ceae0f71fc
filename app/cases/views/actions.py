"""Case screens: actions."""
