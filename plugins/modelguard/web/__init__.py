"""The Model health page: a FastAPI app the plugin mounts in Airflow's api-server under
``/modelguard`` (:data:`modelguard.links.PAGE_PREFIX`), behind Airflow's own login.

Read-only. Per model: the champion and its history, versions with their evaluations, a drift
heatmap (feature x interval, each cell opening that interval's HTML report), performance over
time with the label delay shown, recent alerts, deployments and rollbacks; a JSON API beside
it serves the same data (:class:`modelguard.reporting.ModelReport`). Templates and static
files ship inside the package; nothing is fetched from the internet when a page loads.

Import :func:`modelguard.web.app.get_app` only where the app is served: it imports FastAPI and
Airflow's API security, which task processes loading plugins never need.
"""
