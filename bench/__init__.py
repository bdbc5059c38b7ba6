"""Benchmarks: ``python -m bench`` (or ``python -m bench engine``) measures the execution engine.

See :mod:`bench.engine`. Everything here is bench-only: the ``bench.http_get`` node type
(:mod:`bench.nodes`) and the raw Celery baseline tasks (:mod:`bench.tasks`) are loaded into
the worker processes through ``FLOWBUILDER_EXTRA_NODE_MODULES=bench.nodes``.
"""
