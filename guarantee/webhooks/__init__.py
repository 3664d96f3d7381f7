"""Signed webhooks (issue 24): other systems told of changes as they happen.

An admin registers endpoints in the console (``endpoints``); each change that other systems may
want writes one message per endpoint that asked for it, in the change's own transaction
(``events``); the notification worker delivers them, signed per the Standard Webhooks
specification, with retries, and turns an endpoint off after repeated failures (``delivery``).
Where webhooks may be sent is checked against server-side request forgery (``urls``).
"""
