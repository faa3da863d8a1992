"""Accounts are the product's users: the adapter that sees them (adapter.py), the Account
rows that mirror them for the accounts feed (sync.py), and ending their sessions
(sessions.py). The actions on accounts are in steward.services.accounts."""
