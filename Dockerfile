# One image for the web (ASGI), worker and beat processes.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    FLOWBUILDER_DATA_DIR=/data

# bubblewrap isolates script nodes (SPEC §5); libmagic sniffs uploaded files' types.
RUN apt-get update \
    && apt-get install -y --no-install-recommends bubblewrap libmagic1 \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .
RUN SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput \
    && useradd --system --uid 1000 --home /data flowbuilder \
    && mkdir -p /data && chown flowbuilder /data

USER flowbuilder
EXPOSE 8000
CMD ["uvicorn", "flowbuilder.asgi:application", "--host", "0.0.0.0", "--port", "8000", "--proxy-headers", "--lifespan", "on"]
