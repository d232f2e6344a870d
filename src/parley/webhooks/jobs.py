"""Job handlers of webhooks (found by ``parley.jobs.services.load_handlers``)."""

from parley.webhooks.dispatch import deliver

__all__ = ["deliver"]
