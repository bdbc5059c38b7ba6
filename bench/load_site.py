"""The load benchmark's server settings: Flowbuilder's own, plus one plain Django view (the baseline)."""

from flowbuilder.settings import *  # noqa: F403

ROOT_URLCONF = "bench.load_urls"
