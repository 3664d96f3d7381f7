"""/api/v1/workflow: the claim workflow, generated from workflows/."""

from __future__ import annotations

from typing import Any

from flask import current_app

from guarantee.api.parser import Blueprint
from guarantee.schemas.workflow import WorkflowSchema
from guarantee.services.reading import describe_workflow

blp = Blueprint("workflow", __name__, url_prefix="/api/v1/workflow", description="The claim workflow")


@blp.route("", methods=["GET"])
@blp.response(200, WorkflowSchema)
@blp.doc(operationId="getWorkflow", security=[])
def workflow() -> dict[str, Any]:
    """The workflow: states, triggers, who may fire them, their inputs and clocks"""
    return describe_workflow(current_app.config["GUARANTEE_WORKING_DAYS"])
