"""The architecture as an input: one profile of its numbers (``profile``), the reader that finds
them in an architecture document (``document``), and the comparison of document and deployment
(the AR checks)."""
