# marketgraph in production mode: build with `docker build -t marketgraph .`
FROM python:3.12-slim

COPY --from=ghcr.io/astral-sh/uv:0.13.9 /uv /usr/local/bin/uv
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv

WORKDIR /app
# Dependencies first, in their own layer: they change less often than the code.
COPY pyproject.toml uv.lock ./
RUN uv sync --locked --no-dev --no-install-project
COPY README.md ./
COPY auth ./auth
COPY db ./db
COPY graph ./graph
COPY marketgraph ./marketgraph
RUN uv sync --locked --no-dev

RUN useradd --system --no-create-home --uid 10001 marketgraph \
    && mkdir /data && chown marketgraph /data
USER marketgraph

ENV PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    MARKETGRAPH_MODE=production \
    MARKETGRAPH_DATA_DIR=/data
VOLUME /data
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=4)"]
CMD ["marketgraph", "serve", "--host", "0.0.0.0"]
