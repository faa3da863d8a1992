"""The mutations of the API, each defined once and reachable two ways: its own endpoint
(POST /items/<id>/decisions, ...) and POST /mutations, which runs a batch of them.

An operation is (permission, request serializer, perform). Both paths validate with the same
serializer, check the same permission, run `perform` in its own transaction under the
same idempotency record, and answer with the same status and body, so a client's outbox
can send any entry alone or in a batch and get identical results.
"""

from dataclasses import dataclass
from typing import Any

from django.urls import reverse
from rest_framework import status

from steward.errors import StewardError, exception_handler
from steward.idempotency import hash_parts, run_idempotent_key, stored_response
from steward.permissions import has_permission_code
from steward.serializers.accounts import (
    AccountActionRequestSerializer,
    AccountActionResultSerializer,
    AccountNoteRequestSerializer,
    AccountNoteSerializer,
)
from steward.serializers.common import EmptyRequestSerializer
from steward.serializers.items import (
    DecisionRequestSerializer,
    DecisionResultSerializer,
    ItemSerializer,
)
from steward.serializers.jobs import JobSerializer
from steward.services import accounts as account_services
from steward.services import items as item_services
from steward.services import jobs as job_services


def serialize_item(item):
    return ItemSerializer(item).data


def _claim_body(item):
    item_body = serialize_item(item)
    return {"claim": item_body["claim"], "item": item_body}


def _decide(user, item_id, data):
    decision, item = item_services.decide_item(
        user,
        item_id,
        data["action"],
        data["reason_code"],
        data["note"],
        data["base_version"],
        serialize_item,
    )
    return status.HTTP_201_CREATED, DecisionResultSerializer(
        {"decision": decision, "item": item}
    ).data


def _claim(user, item_id, data):
    return status.HTTP_200_OK, _claim_body(item_services.claim_item(user, item_id, serialize_item))


def _release(user, item_id, data):
    return status.HTTP_200_OK, _claim_body(
        item_services.release_claim(user, item_id, serialize_item)
    )


def _account_action(user, account_id, data):
    account, job = account_services.account_action(
        user,
        account_id,
        data["action"],
        data["reason_code"],
        data["note"],
        data["duration_hours"],
    )
    return status.HTTP_200_OK, AccountActionResultSerializer({"account": account, "job": job}).data


def _add_note(user, account_id, data):
    note = account_services.add_account_note(user, account_id, data["body"])
    return status.HTTP_201_CREATED, AccountNoteSerializer(note).data


def _retry_job(user, job_id, data):
    return status.HTTP_200_OK, JobSerializer(job_services.retry_job(user, job_id)).data


def _cancel_job(user, job_id, data):
    return status.HTTP_200_OK, JobSerializer(job_services.cancel_job(user, job_id)).data


@dataclass(frozen=True)
class Operation:
    permission: str
    method: str
    url_name: str
    url_kwarg: str
    serializer: Any
    perform: Any

    def path(self, target_id) -> str:
        return reverse(f"steward:{self.url_name}", kwargs={self.url_kwarg: target_id})


OPERATIONS = {
    "decide_item": Operation(
        "items.decide", "POST", "decisions", "item_id", DecisionRequestSerializer, _decide
    ),
    "claim_item": Operation(
        "items.decide", "POST", "claim", "item_id", EmptyRequestSerializer, _claim
    ),
    "release_item": Operation(
        "items.decide", "DELETE", "claim", "item_id", EmptyRequestSerializer, _release
    ),
    "account_action": Operation(
        "accounts.act",
        "POST",
        "account-actions",
        "account_id",
        AccountActionRequestSerializer,
        _account_action,
    ),
    "add_account_note": Operation(
        "accounts.act",
        "POST",
        "account-notes",
        "account_id",
        AccountNoteRequestSerializer,
        _add_note,
    ),
    "retry_job": Operation(
        "jobs.act", "POST", "job-retry", "job_id", EmptyRequestSerializer, _retry_job
    ),
    "cancel_job": Operation(
        "jobs.act", "POST", "job-cancel", "job_id", EmptyRequestSerializer, _cancel_job
    ),
}


def validated_args(operation: Operation, data):
    """The operation's arguments, validated; a request without a body counts as {}."""
    if operation.serializer is EmptyRequestSerializer and not data:
        return {}
    serializer = operation.serializer(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def run_batch_operation(user, entry: dict) -> dict:
    """One entry of POST /mutations, answered as its single endpoint would answer it."""
    key = entry["idempotency_key"]
    operation = OPERATIONS[entry["op"]]
    args = entry.get("args") or {}
    try:
        target_id = entry["target_id"]
        digest = hash_parts(operation.method, operation.path(target_id), args)
        # A stored answer replays before the permission and validation checks, as on the
        # single endpoints (see idempotency.py).
        stored = stored_response(user, key, digest)
        if stored is not None:
            status_code, body = stored
            return {"idempotency_key": key, "status": status_code, "body": body}
        if not has_permission_code(user, operation.permission):
            raise StewardError(
                message="You do not have permission to do this.",
                code="permission_denied",
                status_code=status.HTTP_403_FORBIDDEN,
            )
        data = validated_args(operation, args)
        status_code, body, _ = run_idempotent_key(
            user,
            key,
            digest,
            lambda: operation.perform(user, target_id, data),
            field="idempotency_key",
        )
    except Exception as exc:
        response = exception_handler(exc, {})
        status_code, body = response.status_code, response.data
    return {"idempotency_key": key, "status": status_code, "body": body}
