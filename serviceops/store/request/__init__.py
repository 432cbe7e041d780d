"""Service requests, webhook deliveries, identities and grants: their tables and repositories."""

from serviceops.store.request.access import IdentityRepository, SqlProvisioner
from serviceops.store.request.deliveries import DeliveryRepository, StoredAnswer, UnansweredDelivery
from serviceops.store.request.requests import RequestRepository

__all__ = [
    "DeliveryRepository",
    "IdentityRepository",
    "RequestRepository",
    "SqlProvisioner",
    "StoredAnswer",
    "UnansweredDelivery",
]
