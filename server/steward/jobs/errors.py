"""The errors of job actions, in the API's {code, message} shape."""

from rest_framework import status

from steward.errors import StewardError


class JobNotRetryable(StewardError):
    """422: this job cannot be run again (its arguments were not stored, its backend is
    gone, its task no longer exists). Retrying later will not help."""

    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_code = "job_not_retryable"
    default_detail = "This job cannot be retried."


class JobNotCancellable(StewardError):
    """422: the job's backend cannot stop a pending job."""

    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_code = "job_not_cancellable"
    default_detail = "This job's backend cannot cancel a pending job."


class JobBackendUnavailable(StewardError):
    """503: the backend's broker or database did not take the request; nothing was
    applied, and the same request can be sent again later."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "job_backend_unavailable"
    default_detail = "The job backend is not reachable right now. Try again later."


class BulkRetryStopped(Exception):
    """A backend's retry_many stopped part way: the first `sent` retries were sent, and
    `error` (a JobBackendUnavailable) says why the rest were not."""

    def __init__(self, sent: int, error: JobBackendUnavailable):
        super().__init__(error.message)
        self.sent = sent
        self.error = error
