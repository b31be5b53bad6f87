"""Who may use an endpoint at all is the access policy's answer (accounts/policy.py,
enforced for the API by accounts.policy.PolicyPermission on every DRF view). What a caller
may see inside it is the viewset's restrict(); what they may change on an object is its
check_write()."""

from accounts.policy import PolicyPermission

# The name this module gave the role check before the policy took it over.
RolePermission = PolicyPermission

__all__ = ["PolicyPermission", "RolePermission"]
