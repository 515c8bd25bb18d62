"""webhook-notify: posts every record ml-connector parks to an HTTPS webhook.

The hub loads :mod:`mlc_webhook_notify.plugin` through the ``ml_connector.plugins`` entry point
``webhook-notify``; configure it in ``[plugins.webhook-notify]``.
"""

__version__ = "0.1.0"
