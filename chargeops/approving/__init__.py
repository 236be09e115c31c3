"""Approving pay-per-month: computing a Charger's approval and writing it to the cluster or to a YAML file.

``chargeops approve`` (``cli/approve.py``) is the caller. ``states`` says whether a Charger is approved
and what an approval covers; ``cluster`` reads and annotates live Chargers as the current kubeconfig
user, leaving the decision to the API server and its ValidatingAdmissionPolicy; ``documents`` edits
manifests in place for a git commit, touching nothing but the annotation.
"""
