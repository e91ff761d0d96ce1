"""Next.js application checks (NX): each receives one ``NextApp`` (NX001: the ``Project``)."""
