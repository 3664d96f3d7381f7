"""Published statistics (DESIGN 7): count the claims, protect the tables, publish a release, serve it.

A release is one JSON document, built from fixed public lists (never lists taken from the data),
protected by the disclosure rules or, on request, by noise, and stored in the register byte for
byte with its SHA-256. Pages and the API serve the stored bytes; nothing is counted on a request.

One module a job, Flask-free up to the register:

- ``counting``: the SQL counts of one period, and the working days the times are measured in;
- ``disclosure``: the 10-5 rule, as a small library (also for anything else published);
- ``privacy``: differentially private counts, for a release with noise;
- ``tables``: the protected tables, the share upheld and the working days taken;
- ``document``: a release's settings, its document and notes, its canonical bytes and its CSV;
- ``releases``: the register: publish (with the check against earlier releases), read, verify;
- ``downloads``: a release as a JSON or CSV download, for the pages and the API alike;
- ``pages``, ``charts`` and ``templates/``: the public pages at /statistics;
- ``api`` and ``schemas``: /api/v1/statistics (flask-smorest).

The console's publishing page (``guarantee.console.statistics``) and the ``flask guarantee
statistics`` commands (``guarantee.cli``) call ``releases``.
"""
