"""Case conference tests."""
