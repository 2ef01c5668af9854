# supportbot: the bot (`serve`) and the scheduler (`scheduler`) share this image.
# CPU-only PyTorch keeps the image a fraction of the size of the default CUDA build.

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
RUN pip install --index-url https://download.pytorch.org/whl/cpu torch==2.13.0
WORKDIR /src
COPY pyproject.toml README.md ./
COPY supportbot ./supportbot
COPY bot ./bot
COPY knowledge ./knowledge
COPY finetune_data ./finetune_data
COPY scheduler ./scheduler
RUN pip install .

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 supportbot \
    && mkdir /data && chown supportbot:supportbot /data
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    HF_HUB_OFFLINE=1 \
    HAYSTACK_TELEMETRY_ENABLED=False \
    SUPPORTBOT_DATA_DIR=/data \
    SUPPORTBOT_HOST=0.0.0.0 \
    SUPPORTBOT_PORT=8000 \
    SUPPORTBOT_LOG_FORMAT=json
USER supportbot
WORKDIR /home/supportbot
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
ENTRYPOINT ["supportbot"]
CMD ["serve"]
