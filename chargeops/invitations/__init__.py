"""Invitations: the signed links subscribers follow to accept, decline, or see their account. Pure."""
