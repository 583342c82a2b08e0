"""`python -m search_api` / `sovei-serve`: serve the page and API with uvicorn."""

from __future__ import annotations

import logging
import sys


def main() -> int:
    import uvicorn

    from indexer.errors import SoveiError
    from indexer.settings import get_settings

    settings = get_settings()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    print(f"SoVei kunnskapsbank: http://{settings.host}:{settings.port}/  (Ctrl+C stopper)", flush=True)
    try:
        # access_log off: uvicorn would log full URLs, and query strings can describe a child.
        uvicorn.run("search_api.app:app_factory", factory=True, host=settings.host, port=settings.port,
                    access_log=False, log_level="info")
    except SoveiError as exc:
        print(f"Kan ikke starte: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
