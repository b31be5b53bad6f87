"""A service's refusal (a ValidationError) shown on the form that asked for it: each
field's messages on that field, the rest above the form. The plan pages and the year pages
both show refusals this way."""

from django.core.exceptions import ValidationError


def add_errors(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)
