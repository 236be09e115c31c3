"""Desired state → live charger: which keys (``chargeops.api.charger_configuration``), which list
updates (``local_list``), in which protocol's words (``dialects``), the algorithm (``converge``) and when
it runs (``runner``)."""
