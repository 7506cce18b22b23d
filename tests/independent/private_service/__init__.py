"""An independent relying party, written from the contract only (see app.py)."""
