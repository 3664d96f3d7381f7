"""The ORM models, one module per aggregate."""

from guarantee.models.api import IdempotencyRecord, OfficerToken
from guarantee.models.audit import AdminEvent, AuditEvent
from guarantee.models.base import Base
from guarantee.models.claim import (
    Claim,
    ClaimClock,
    Contact,
    ReferenceCounter,
    TimelineEntry,
    TrackingToken,
)
from guarantee.models.data_rights import DataRightsRequest
from guarantee.models.draft import ClaimDraft
from guarantee.models.evidence import Attachment
from guarantee.models.follow import RuleSubscription, RuleSubscriptionToken
from guarantee.models.officer import MailOptOut, Officer, OfficerRole
from guarantee.models.outbox import OutboxMessage
from guarantee.models.register import DecisionStatement
from guarantee.models.regulation import Regulation
from guarantee.models.remedy import RemedyCheckIn
from guarantee.models.saved_filter import SavedFilter
from guarantee.models.sign_on import SignInDomain
from guarantee.models.statistics import StatisticsRelease
from guarantee.models.webhook import WebhookAttempt, WebhookEndpoint, WebhookMessage

__all__ = [
    "AdminEvent",
    "Attachment",
    "AuditEvent",
    "Base",
    "Claim",
    "ClaimClock",
    "ClaimDraft",
    "Contact",
    "DataRightsRequest",
    "DecisionStatement",
    "IdempotencyRecord",
    "MailOptOut",
    "Officer",
    "OfficerRole",
    "OfficerToken",
    "OutboxMessage",
    "ReferenceCounter",
    "Regulation",
    "RemedyCheckIn",
    "RuleSubscription",
    "RuleSubscriptionToken",
    "SavedFilter",
    "SignInDomain",
    "StatisticsRelease",
    "TimelineEntry",
    "TrackingToken",
    "WebhookAttempt",
    "WebhookEndpoint",
    "WebhookMessage",
]
