"""Call metadata the gateway's services expect."""

from __future__ import annotations

#: Metadata key carrying the end client's B2Core access token to VerificationService.
B2CORE_AUTHORIZATION = "b2core-authorization"


def b2core_metadata(token: str) -> tuple[tuple[str, str], ...]:
    """Metadata for a VerificationService call made for the client owning ``token``.

    A token without the ``Bearer`` prefix gets it::

        stub.ListVerifications(request, metadata=b2core_metadata(token))
    """
    if not token.lower().startswith("bearer "):
        token = f"Bearer {token}"
    return ((B2CORE_AUTHORIZATION, token),)
