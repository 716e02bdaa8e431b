"""The seed's dashboard launcher:
``python -m pytest_eventrecorder.serve_recorder --recordings-dir ./recordings --port 5556``.

The same options as ``eventrecorder serve``.
"""

from __future__ import annotations

from .cli import serve

__all__ = ["serve"]

if __name__ == "__main__":
    serve(prog_name="python -m pytest_eventrecorder.serve_recorder")
