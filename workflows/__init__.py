"""The generic workflow engine. Knows no panel."""
from workflows.definition import SYSTEM, Context, DeadlineRule, Guard, Step, Workflow
from workflows.engine import (
                              Available,
                              Blocked,
                              Invalid,
                              NotAllowed,
                              StaleVersion,
                              WorkflowError,
                              available_steps,
                              case_moved,
                              check,
                              fire,
                              history,
                              register,
                              workflow_for,
)

__all__ = ["SYSTEM", "Available", "Blocked", "Context", "DeadlineRule", "Guard", "Invalid", "NotAllowed",
           "StaleVersion", "Step", "Workflow", "WorkflowError", "available_steps", "case_moved", "check", "fire",
           "history", "register", "workflow_for"]
