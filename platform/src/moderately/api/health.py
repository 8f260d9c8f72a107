from fastapi import APIRouter, Request

from moderately import __version__
from moderately.api import extensions
from moderately.api.errors import error_responses
from moderately.api.json_bounds import BoundedJSONRoute
from moderately.schemas.entities import HealthPublic

router = APIRouter(tags=["health"], route_class=BoundedJSONRoute)


@router.get("/health", response_model=HealthPublic, responses=error_responses())
async def get_health(request: Request) -> HealthPublic:
    """Liveness; needs no token and touches no database. `extensions` names the extensions of
    the published API this server serves (see Extensions; empty when they are turned off)."""
    on: bool = request.app.state.settings.api_extensions
    return HealthPublic(status="ok", version=__version__, extensions=extensions.enabled(on))
