"""The product's content under moderation: Sources (how Steward snapshots an object and
what each decision does to it), the registry that autodiscovers them from the product's
steward.py modules, and the one way content comes in, `report`."""
