"""`file`: references a team file.

The `file_id` input port (id string or file ref) wins over `config.file_id`; one of them is
required. Outputs `data` (the file-ref object, primary), `file_id` and `text`: the UTF-8 decoding
(invalid bytes replaced) for text-like MIME types up to 10 MiB, else null.
"""

from __future__ import annotations

from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field

from ..context import BlockContext
from ..ports import BlockPorts, Port
from ..registry import BlockType, block

TEXT_LIMIT: Final = 10 * 1024 * 1024
_TEXT_TYPES: Final = frozenset({"application/json", "application/csv", "application/xml"})


def is_text_type(mime_type: str) -> bool:
    base = mime_type.split(";", 1)[0].strip().lower()
    return base.startswith("text/") or base in _TEXT_TYPES


class FileConfig(BaseModel):
    model_config = ConfigDict(extra="allow")

    file_id: str | None = Field(
        default=None, description="Id of a team file; the file_id input port overrides it"
    )


_OUTPUTS: Final = (
    Port("data", primary=True, kind="file_ref"),
    Port("file_id", kind="string"),
    Port("text", kind="string"),
)


@block("file")
class File(BlockType[FileConfig]):
    description = "Reference a team file (and read its text when it is a text file)."
    config_model = FileConfig
    inputs = (Port("file_id", primary=True, kind="file_ref"),)
    outputs = _OUTPUTS

    def ports(self, config: FileConfig) -> BlockPorts:
        required = not config.file_id
        return BlockPorts(
            (Port("file_id", required=required, primary=True, kind="file_ref"),), _OUTPUTS
        )

    async def run(
        self, ctx: BlockContext, config: FileConfig, inputs: dict[str, Any]
    ) -> dict[str, Any]:
        info = await ctx.file(inputs.get("file_id", config.file_id))
        text: str | None = None
        if is_text_type(info.mime_type) and info.file_size <= TEXT_LIMIT:
            text = (
                (await ctx.read_file(info)).decode("utf-8", errors="replace").removeprefix("\ufeff")
            )
        return {"data": info.ref(), "file_id": info.file_id, "text": text}
