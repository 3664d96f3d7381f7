from guarantee.services.claims import submit_claim
from tests.helpers import VALID_SUBMISSION


def test_a_submitted_claim_gets_a_reference_and_token(ctx):
    submitted = submit_claim(ctx, VALID_SUBMISSION)
    assert submitted.reference == "CPG-2026-000001"
    assert len(submitted.tracking_token) >= 43
