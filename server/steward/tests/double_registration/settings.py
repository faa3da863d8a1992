from demo.settings import *  # noqa: F403

INSTALLED_APPS = [*INSTALLED_APPS, "steward.tests.double_registration"]  # noqa: F405
