from fastapi import APIRouter

from moderately import __version__
from moderately.api.errors import error_responses
from moderately.api.json_bounds import BoundedJSONRoute
from moderately.schemas.entities import HealthPublic

router = APIRouter(tags=["health"], route_class=BoundedJSONRoute)


@router.get("/health", response_model=HealthPublic, responses=error_responses())
async def get_health() -> HealthPublic:
    """Liveness; needs no token and touches no database."""
    return HealthPublic(status="ok", version=__version__)
