"""Parley's own German-first comment classifiers: offense, toxicity, engagement, fact claims.

Small linear models over character and word n-grams of the moderation engine's folded text,
trained by the project (``parley model train``), stored as plain arrays plus a JSON header (no
pickles), and measured with GermEval's official metric (``parley model eval``). The moderation
pipeline uses them through :class:`~parley.classifiers.interfaces.Classifier` in
:mod:`parley.moderation.phases.classifier`. Module map:

- :mod:`.tasks` the tasks and their reason codes; :mod:`.settings` per-site thresholds;
- :mod:`.data` loaders (GermEval 2018/2021, HateCheck, OLID, a publisher's export);
- :mod:`.text` what a model reads; :mod:`.features` n-gram tf-idf; :mod:`.model` scoring;
- :mod:`.train` training and threshold tuning; :mod:`.recipes` per-task data and hyper-parameters;
- :mod:`.metrics`, :mod:`.evaluate` measurement; :mod:`.artifact`, :mod:`.loader` storage;
- :mod:`.cli` the ``parley model`` commands.

Nothing happens at import: models load on first use.
"""
