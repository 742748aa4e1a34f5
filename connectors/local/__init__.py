"""Local HTTP servers that speak the providers' documented formats, for the tests and the
local demo: the console talks to them through the same clients it uses in production,
with the ``GOOGLE_*`` and ``MICROSOFT_*`` base URLs pointed at them."""
