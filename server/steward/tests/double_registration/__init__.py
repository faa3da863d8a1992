"""An app whose steward.py registers forum.Post a second time: start-up must fail."""
