"""Case forms (shape checks only; services enforce the rules)."""
