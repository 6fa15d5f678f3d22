"""The schema says what every refusal looks like: a problem details document."""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers


class FieldProblemSerializer(serializers.Serializer):
    field = serializers.CharField(help_text="The field refused; empty for the record.")
    value = serializers.JSONField(allow_null=True, help_text="The value sent.")
    message = serializers.CharField(help_text="Why, in the caller's language.")


class ProblemSerializer(serializers.Serializer):
    """RFC 9457 problem details, as every refusal of the API is answered."""

    type = serializers.CharField()
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    errors = FieldProblemSerializer(many=True, required=False)


# The refusals each kind of operation can meet.
_ALWAYS = {
    "401": "No or a revoked token.",
    "403": "Not allowed.",
    "429": "Too many requests.",
}
_WRITES = {
    "404": "Not found, or not yours.",
    "409": "Refused by the workflow.",
    "412": "Changed meanwhile (If-Match).",
    "422": "Invalid values, fields named.",
}


class ProblemAutoSchema(AutoSchema):
    """drf-spectacular's schema with the problem responses of each operation."""

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        refusals = dict(_ALWAYS)
        if self.method != "GET":
            refusals.update(_WRITES)
        elif "{" in self.path:
            refusals["404"] = _WRITES["404"]
        for code, description in refusals.items():
            if code not in responses:
                response = self._get_response_for_code(
                    ProblemSerializer, code, ["application/problem+json"], direction
                )
                response["description"] = description
                responses[code] = response
        return responses
