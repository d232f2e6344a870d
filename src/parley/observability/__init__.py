"""Process metrics (prometheus_client): moderation phase runs, failures and latency.

One :class:`~parley.observability.metrics.Metrics` per :class:`~parley.registry.Registry`, each with
its own ``CollectorRegistry`` (several apps in one process — tests — never collide). The scale-out
work exposes ``registry.metrics.registry`` at ``/metrics``; the workspace's health page reads it.
"""
