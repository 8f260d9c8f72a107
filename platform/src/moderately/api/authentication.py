from fastapi import APIRouter

from moderately.api.deps import PrincipalDep
from moderately.api.errors import error_responses
from moderately.api.json_bounds import BoundedJSONRoute
from moderately.schemas.entities import WhoAmIPublic

router = APIRouter(prefix="/authentication", tags=["Authentication"], route_class=BoundedJSONRoute)


@router.get("/whoami", response_model=WhoAmIPublic, responses=error_responses(400, 403))
async def whoami(principal: PrincipalDep) -> WhoAmIPublic:
    return WhoAmIPublic(user_id=principal.user_id)
