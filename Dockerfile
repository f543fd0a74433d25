# FloodManager web app and CLI. Used by docker-compose.yml; PostGIS runs in its own container.
FROM python:3.11-slim

RUN apt-get update \
 && apt-get install -y --no-install-recommends nodejs npm libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts --loglevel=error

COPY . .
RUN pip install --no-cache-dir -e . && mkdir -p instance

ENV FLASK_APP=geoapp PYTHONUNBUFFERED=1
EXPOSE 5000
# Granian via `flask serve` (docs/security/serve.md); workers and threads from GEOAPP_SERVE_*.
CMD ["flask", "--app", "geoapp", "serve", "--host", "0.0.0.0", "--port", "5000"]
