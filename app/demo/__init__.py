"""Demo and Seoul-scale data generation (CLI only)."""
