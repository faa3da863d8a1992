"""A Django project used only by the benchmarks: the demo project with plain DRF list
endpoints mounted beside Steward's API, as the baselines of bench/py/server_feeds.py.
Nothing in the shipped app imports it."""
