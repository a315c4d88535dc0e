"""Models of the portal app, one concept a module."""

from .councils import Council
from .emails import SentEmail
from .memberships import CouncilMembership, CouncilRole, JoinRequest, SchoolMembership, SchoolRole
from .pages import HomePage, InformationPage
from .schools import FundingRoute, School
from .users import User

__all__ = [
    "Council",
    "CouncilMembership",
    "CouncilRole",
    "FundingRoute",
    "HomePage",
    "InformationPage",
    "JoinRequest",
    "School",
    "SchoolMembership",
    "SchoolRole",
    "SentEmail",
    "User",
]
