"""The web dashboard: server-rendered pages and a read-only JSON API over the database.

Served on the daemon's listener (``copytrader run``, ``demo``) and by ``copytrader web``.
Templates and static files (the uPlot chart library included) ship inside this package; the
pages load nothing from any other origin. See :mod:`copytrader.web.app` for the routes.
"""
