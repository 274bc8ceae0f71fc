"""How records reacts to the other features (home-page blocks, …): one module per part."""
from . import request_reactions, retention_reactions, transfer_reactions  # noqa: F401
