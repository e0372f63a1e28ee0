"""The reference for `npm run bench -- --suite uploads` (issue 11): the same job as the Images
service, written the way a FastAPI + Pillow service usually is.

POST /upload (multipart, part "file"): decode with Pillow, turn upright (EXIF orientation), store the
original re-encoded without EXIF/XMP (JPEG q90, ICC profile kept) and a 256 px WebP thumbnail (q80)
in UPLOAD_DIR, fsync'd like the Images service's local storage; answer 201 with id and size.
GET /livez answers at once (probed during the burst).

Run under Debian's /usr/bin/python3 (python3-fastapi, python3-uvicorn, python3-multipart,
python3-pil; tools/bench/prepare.sh installs them):
    UPLOAD_DIR=/tmp/x python3 -m uvicorn upload_service:app --workers 2 --port 8000
"""
import io
import os
import uuid

from fastapi import FastAPI, File, HTTPException, UploadFile
from fastapi.responses import JSONResponse
from PIL import Image, ImageOps, UnidentifiedImageError

UPLOAD_DIR = os.environ.get("UPLOAD_DIR", "/tmp/bench-reference-uploads")
THUMBNAIL_EDGE = 256
os.makedirs(UPLOAD_DIR, exist_ok=True)

app = FastAPI()


def write_synced(path: str, data: bytes) -> None:
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def process(data: bytes) -> tuple[bytes, bytes, int, int]:
    with Image.open(io.BytesIO(data)) as opened:
        if opened.format not in ("JPEG", "PNG", "WEBP", "GIF"):
            raise HTTPException(status_code=415, detail="unsupported type")
        icc = opened.info.get("icc_profile")
        image = ImageOps.exif_transpose(opened)
        original = io.BytesIO()
        # Saving without exif= drops EXIF (GPS included) and XMP; only the ICC profile is passed on.
        image.convert("RGB").save(original, format="JPEG", quality=90, icc_profile=icc)
        thumb = image.copy()
        thumb.thumbnail((THUMBNAIL_EDGE, THUMBNAIL_EDGE))
        thumbnail = io.BytesIO()
        thumb.convert("RGB").save(thumbnail, format="WEBP", quality=80)
        return original.getvalue(), thumbnail.getvalue(), image.width, image.height


# A plain `def`: FastAPI runs it in its thread pool, so the event loop (and /livez) stays free.
@app.post("/upload", status_code=201)
def upload(file: UploadFile = File(...)):
    data = file.file.read()
    try:
        original, thumbnail, width, height = process(data)
    except (UnidentifiedImageError, OSError) as err:
        raise HTTPException(status_code=422, detail="invalid image") from err
    image_id = str(uuid.uuid4())
    write_synced(os.path.join(UPLOAD_DIR, f"{image_id}.original"), original)
    write_synced(os.path.join(UPLOAD_DIR, f"{image_id}.thumbnail.webp"), thumbnail)
    return JSONResponse({"id": image_id, "width": width, "height": height, "sizeBytes": len(original)}, status_code=201)


# async: answered on the event loop, not queued behind uploads in the thread pool.
@app.get("/livez")
async def livez():
    return {"status": "ok"}
