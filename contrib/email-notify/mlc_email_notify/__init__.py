"""email-notify: e-mails ml-connector's alerts and a daily digest over SMTP with TLS.

The hub loads :mod:`mlc_email_notify.plugin` through the ``ml_connector.plugins`` entry point
``email-notify``; configure it in ``[plugins.email-notify]``.
"""

__version__ = "0.1.0"
