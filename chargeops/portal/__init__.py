"""``chargeops portal``: the web pages subscribers reach from their emails.

Two pages, both opened with a signed link (``chargeops.invitations.tokens``): the invitation, where a
subscriber reads the offer and accepts or declines it once, and the read-only account page with the
current month's sessions and past invoices. The portal records an answer as an annotation on the
Subscription and nothing else; the operator turns it into the subscription's phase.

It is a process of its own, not part of the gateway: the gateway stays free of Kubernetes, its public
listener speaks OCPP websockets rather than form POSTs, and the portal can face the internet with its own
NetworkPolicy while the gateway's control API stays private. An application: it exports nothing.
"""
