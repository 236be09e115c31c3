"""Desired state → live charger: which keys (``keys``), which list updates (``local_list``), in which
protocol's words (``dialects``), the algorithm (``converge``) and when it runs (``runner``)."""
