"""The three-service application of issue 13, written into a directory for a test or the bench."""

from __future__ import annotations

import socket
from pathlib import Path

DOCKERFILE = """\
FROM busybox
RUN mkdir -p /www && echo api-ok > /www/index.html
CMD ["httpd", "-f", "-p", "8000", "-h", "/www"]
"""

COMPOSE = """\
services:
  frontend:
    image: busybox
    command: ["sh", "-c", "mkdir -p /www && echo \\"$$GREETING\\" > /www/index.html && exec httpd -f -p 8080 -h /www"]
    environment:
      GREETING: ${{GREETING:-hello from frontend}}
    ports: ["127.0.0.1:${{FRONT_PORT:?set FRONT_PORT}}:8080"]
    depends_on: [api]
    restart: unless-stopped
    init: true
    labels: {{app.tier: frontend}}
  api:
    build: ./api
    init: true
    depends_on:
      db: {{condition: {condition}}}
  db:
    image: busybox
    command: ["sh", "-c", "echo db-data > /data/x && touch /data/ready && echo db ready && exec httpd -f -p 5432 -h /data"]
    volumes: [dbdata:/data]
    init: true
    healthcheck:
      test: ["CMD", "test", "-f", "/data/ready"]
      interval: 1s
      retries: 10
volumes:
  dbdata: {{}}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_app(root: Path, port: int, condition: str = "service_healthy") -> Path:
    (root / "api").mkdir(parents=True, exist_ok=True)
    (root / "api" / "Dockerfile").write_text(DOCKERFILE)
    (root / ".env").write_text(f"FRONT_PORT={port}\n")
    path = root / "compose.yaml"
    path.write_text(COMPOSE.format(condition=condition))
    return path
