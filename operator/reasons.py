"""Condition types and the CamelCase reasons the operator writes into VideoJob status.

One small file so that a reason is spelled once; `kubectl wait --for=condition=...`
and alerting rules depend on these strings.
"""

from videojob.contract import FailureReason

# Condition types (metav1.Condition.type).
ACCEPTED = "Accepted"
PROGRESSING = "Progressing"
SUCCEEDED = "Succeeded"
FAILED = "Failed"

# Phases (status.phase), in the order a VideoJob usually goes through them.
PENDING = "Pending"
QUEUED = "Queued"
SUSPENDED = "Suspended"
SCRIPTING = "Scripting"
RENDERING = "Rendering"
ASSEMBLING = "Assembling"
UPLOADING = "Uploading"
PHASE_SUCCEEDED = "Succeeded"
PHASE_FAILED = "Failed"
TERMINAL_PHASES = frozenset({PHASE_SUCCEEDED, PHASE_FAILED})
RENDERER_PHASES = frozenset({SCRIPTING, RENDERING, ASSEMBLING, UPLOADING})

# Reasons for Accepted.
SPEC_ACCEPTED = "SpecAccepted"
INVALID_SPEC = FailureReason.INVALID_SPEC

# Reasons for Progressing, Succeeded and Failed while nothing is final.
WAITING_FOR_SLOT = "WaitingForRenderSlot"
UNSCHEDULABLE = "Unschedulable"
STARTING = "RendererStarting"
RUNNING = "RendererRunning"
SUSPENDED_BY_USER = "SuspendedByUser"
NOT_FINISHED = "NotFinished"
RENDER_SUCCEEDED = "RenderSucceeded"
RENDER_FAILED = "RenderFailed"

# Failure reasons the operator derives from Job and Pod status (the renderer adds its own,
# see videojob.contract.FailureReason).
OOM_KILLED = "OOMKilled"
DEADLINE_EXCEEDED = "DeadlineExceeded"
BACKOFF_LIMIT_EXCEEDED = "BackoffLimitExceeded"
INVALID_STORYBOARD = FailureReason.INVALID_STORYBOARD
JOB_DELETED = "RendererJobDeleted"
SCRATCH_FULL = "ScratchFull"  # the kubelet evicted the Pod: its scratch emptyDir passed its sizeLimit
