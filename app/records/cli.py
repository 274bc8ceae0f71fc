"""The records commands: transfers' daily overdue check, retention preview and run."""
from . import retention_cli, transfer_cli


def register_cli(app) -> None:
    """Add every records command to ``flask``."""
    transfer_cli.register_cli(app)
    retention_cli.register_cli(app)
