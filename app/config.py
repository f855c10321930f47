"""Settings of one app run: where to bind, which model, and every limit a user can hit.

All limits live in :class:`Limits` so the CLI, the UI text and the callbacks read the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field


# The decoders allowed to see an upload's bytes, by file suffix (issue 16): the Pillow format the image must be in and
# the FFmpeg demuxer a video is opened with. Nothing else is ever tried, whatever the content claims: no EPS/PS/PDF
# plugin (Ghostscript), no playlist or network-capable demuxer (HLS, concat, …). The UI, the API and ``serve`` share
# these tables (app.chat.media_checks opens files with them).
IMAGE_FORMATS = {
    ".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP", ".gif": "GIF", ".bmp": "BMP", ".tif": "TIFF",
    ".tiff": "TIFF",
}  # fmt: skip
VIDEO_DEMUXERS = {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov", ".webm": "matroska", ".mkv": "matroska", ".avi": "avi"}
# MIME types ``serve`` accepts in data: URLs → the suffix the decoded file is stored under (and so its decoder).
IMAGE_MIME_TYPES = {"image/png": ".png", "image/jpeg": ".jpg", "image/webp": ".webp", "image/gif": ".gif",
                    "image/bmp": ".bmp", "image/tiff": ".tiff"}  # fmt: skip
VIDEO_MIME_TYPES = {"video/mp4": ".mp4", "video/quicktime": ".mov", "video/webm": ".webm",
                    "video/x-matroska": ".mkv", "video/x-msvideo": ".avi"}  # fmt: skip
IMAGE_EXTENSIONS = tuple(IMAGE_FORMATS)
VIDEO_EXTENSIONS = tuple(VIDEO_DEMUXERS)
SEQUENCE_EXTENSIONS = (".fasta", ".fa", ".faa", ".fna")
STRUCTURE_EXTENSIONS = (".pdb", ".cif", ".ent", ".mmcif")  # PDB / mmCIF: chains, ligands, 3D (science_tools)
MOLECULE_EXTENSIONS = (".sdf", ".mol", ".smi")
ACCEPTED_EXTENSIONS = (
    IMAGE_EXTENSIONS + VIDEO_EXTENSIONS + SEQUENCE_EXTENSIONS + STRUCTURE_EXTENSIONS + MOLECULE_EXTENSIONS
)

# One 448×448 tile becomes 256 visual tokens in Intern-S1 (448/14 = 32 patches per side, pixel shuffle 0.5).
TOKENS_PER_TILE = 256


@dataclass(frozen=True)
class Limits:
    """Budgets enforced before a request reaches the model; each has a CLI flag of the same name."""

    max_file_size_mb: float = 20.0
    max_images_per_message: int = 4
    max_tiles_per_image: int = 6  # dynamic tiles, a thumbnail tile is added when > 1
    max_videos_per_message: int = 1
    max_video_frames: int = 8  # one tile per frame
    max_video_seconds: float = 600.0  # longer videos are refused before decoding
    max_image_pixels: int = 64_000_000  # decompression-bomb guard, checked from the header
    # Memory the image processor may need to prepare one image, estimated from the header (app.chat.media_checks):
    # a 48-megapixel photo needs ~0.7 GB, a 7,999² image ~1 GB, a 1×60,000,000 strip ~600 GB (its resize buffer).
    max_image_decode_mb: float = 768.0
    max_video_frame_pixels: int = 3840 * 2160  # 4K UHD; every frame's size is read from the container header
    max_text_chars: int = 20_000
    max_prompt_tokens: int = 8192
    max_new_tokens: int = 1024  # slider default
    max_new_tokens_cap: int = 8192  # slider maximum, also enforced for API callers
    max_queue_size: int = 64
    max_requests_per_session: int = 1  # a session may have one answer streaming at a time
    concurrency_limit: int = 4  # answers generated at once across all sessions
    request_timeout_s: float = 600.0
    # uploads (the page and the API): Gradio keeps them this long (delete_cache), and each client address may send
    # this many upload requests / megabytes within that window (app.ui.page_guard)
    upload_retention_hours: float = 24.0
    max_uploads_per_client: int = 500
    max_upload_mb_per_client: float = 2048.0
    # serve (the OpenAI-compatible server): bounds checked before a request body is read or parsed
    max_request_body_mb: float = 64.0  # whole JSON body, base64 media included
    max_messages_per_request: int = 512
    request_read_timeout_s: float = 30.0  # time a client has to send its request headers, and again its body

    def __post_init__(self) -> None:
        for name, value in vars(self).items():
            if value <= 0:
                raise ValueError(f"limit {name} must be positive, got {value!r}")
        if self.max_new_tokens > self.max_new_tokens_cap:
            raise ValueError(
                f"max_new_tokens ({self.max_new_tokens}) exceeds max_new_tokens_cap ({self.max_new_tokens_cap})"
            )

    @property
    def max_file_size_bytes(self) -> int:
        return int(self.max_file_size_mb * 1024 * 1024)

    def max_visual_tokens_per_image(self) -> int:
        thumbnail = 1 if self.max_tiles_per_image > 1 else 0
        return (self.max_tiles_per_image + thumbnail) * TOKENS_PER_TILE

    def describe(self) -> str:
        """One line for the UI saying what will be accepted."""
        return (
            f"Up to {self.max_images_per_message} images per message (≤ {self.max_tiles_per_image} tiles of 448 px "
            f"each, {TOKENS_PER_TILE} tokens per tile), {self.max_videos_per_message} video "
            f"(≤ {self.max_video_frames} frames), files ≤ {self.max_file_size_mb:g} MB, "
            f"prompt ≤ {self.max_prompt_tokens} tokens."
        )


@dataclass(frozen=True)
class ModelOptions:
    """How the local backend loads its model (``model=None`` means the embedded offline demo)."""

    model: str | None = None
    device: str = "auto"  # "auto", "cpu", "cuda", "cuda:1", …
    dtype: str = "auto"  # "auto" picks bf16 on GPU and fp32 on CPU
    attn_implementation: str | None = None  # "sdpa", "eager", "flash_attention_2"
    trust_remote_code: bool = False
    cache_dir: str | None = None  # where the demo model is built and cached
    compile: bool = False  # static KV cache + torch.compile of the decode step (compiled once, at load)


@dataclass(frozen=True)
class AppConfig:
    """Everything the UI needs besides the backend."""

    host: str = "127.0.0.1"
    port: int | None = None
    share: bool = False
    limits: Limits = field(default_factory=Limits)
    title: str = "Intern-S1 Studio"
    auth: tuple[tuple[str, str], ...] = ()  # (user, password) pairs; empty means no login
