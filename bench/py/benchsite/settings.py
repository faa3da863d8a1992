"""The demo project's settings with the benchmark's URLs: demo.urls plus the baseline
endpoints under /bench-baseline/ (benchsite.baseline)."""

from demo.settings import *

ROOT_URLCONF = "benchsite.urls"
