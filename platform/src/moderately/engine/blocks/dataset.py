"""`dataset`: loads one team dataset as rows.

Outputs `data` (rows, primary), `dataset_id` and `columns` (the schema column list used). Parsing
and typing are the host's (`RunContext.read_dataset`); missing datasets fail with
`dataset_not_found`, datasets without a current data version with `dataset_has_no_data`.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ..context import BlockContext
from ..ports import Port
from ..registry import BlockType, block


class DatasetConfig(BaseModel):
    model_config = ConfigDict(extra="allow")

    dataset_id: str = Field(min_length=1, description="Id of a dataset of the team")


@block("dataset")
class Dataset(BlockType[DatasetConfig]):
    description = "Load one team dataset as rows."
    config_model = DatasetConfig
    outputs = (
        Port("data", primary=True, kind="rows"),
        Port("dataset_id", kind="dataset_ref"),
        Port("columns", kind="array"),
    )
    map_target = False

    async def run(
        self, ctx: BlockContext, config: DatasetConfig, inputs: dict[str, Any]
    ) -> dict[str, Any]:
        loaded = await ctx.load_dataset(config.dataset_id)
        return {
            "data": loaded.rows,
            "dataset_id": config.dataset_id,
            "columns": loaded.columns,
        }
