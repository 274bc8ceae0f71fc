"""Pieces of scripts/bench (issue 13): serve with gunicorn, sign in, measure pages, report."""
