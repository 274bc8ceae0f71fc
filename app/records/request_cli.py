"""열람·정정 requests have no command: the deadline needs no daily job, since the lead's home reads
open requests by deadline from their index each time it is shown (request_reactions.py)."""


def register_cli(app):
    """Nothing to add (kept so every part of records has the same files)."""
