"""POST /mutations: a batch of operations, each answered as its single endpoint would."""

from rest_framework import serializers

from steward.serializers.common import StrictCharField, StrictIntegerField, StrictSerializer


class MutationOperationSerializer(StrictSerializer):
    idempotency_key = StrictCharField(max_length=255)
    op = serializers.ChoiceField(
        choices=[
            "decide_item",
            "claim_item",
            "release_item",
            "account_action",
            "add_account_note",
            "retry_job",
            "cancel_job",
        ]
    )
    target_id = StrictIntegerField(min_value=1, max_value=2**63 - 1)
    args = serializers.DictField(required=False, default=dict)


class MutationBatchRequestSerializer(StrictSerializer):
    operations = MutationOperationSerializer(many=True, allow_empty=False, max_length=100)


class MutationResultSerializer(serializers.Serializer):
    idempotency_key = serializers.CharField()
    status = serializers.IntegerField(help_text="The HTTP status the single endpoint returns.")
    body = serializers.JSONField(help_text="The single endpoint's body, or its error body.")


class MutationBatchResultSerializer(serializers.Serializer):
    results = MutationResultSerializer(many=True)
