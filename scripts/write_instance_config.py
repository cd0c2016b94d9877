"""Write instance/config.py with fresh random keys, unless it exists (never overwrites keys)."""
import base64
import os
import secrets
import sys
from pathlib import Path

path = Path(sys.argv[1] if len(sys.argv) > 1 else "instance/config.py")
if path.exists():
    sys.exit(0)
path.parent.mkdir(parents=True, exist_ok=True)


def key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


path.write_text(
    "# Local configuration written by `make`. Keep these keys secret and backed up apart from the database.\n"
    "# Development: plain HTTP on this machine and the synthetic demo; never serve real people like this.\n"
    "ENV_NAME = 'development'\n"
    f"SECRET_KEY = {secrets.token_urlsafe(48)!r}\n"
    f"DATA_KEYS = {'k1:' + key()!r}\n"
    f"BLIND_INDEX_KEY = {'b1:' + key()!r}\n"
)
path.chmod(0o600)
print(f"Wrote {path} with new random keys")
