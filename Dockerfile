# One image for web, worker and beat (docker-compose.yml picks the command).

# Front-end libraries (ECharts) from package-lock.json; only their built files reach the
# final image, which serves them as static files (no CDN, works on an intranet).
FROM node:20-bookworm-slim AS assets
WORKDIR /assets
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    DJANGO_ENV=production \
    VAR_DIR=/app/var \
    STATIC_ROOT=/app/staticfiles \
    MEDIA_ROOT=/app/var/media

WORKDIR /app
# Plan files as bureaus publish them: LibreOffice converts legacy .doc/.wps (antiword and
# catdoc are the fallback), poppler renders scanned PDF pages and tesseract reads them
# (simplified and traditional Chinese); LibreOffice Calc prints the ledger to PDF.
RUN apt-get update \
 && apt-get install -y --no-install-recommends curl \
      libreoffice-writer-nogui libreoffice-calc-nogui antiword catdoc \
      poppler-utils tesseract-ocr tesseract-ocr-chi-sim tesseract-ocr-chi-tra \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --home /app --uid 1000 app

COPY requirements.txt ./
RUN pip install -r requirements.txt

COPY . .
# STATICFILES_DIRS serves this folder as vendor/echarts/ (see config/settings.py); only the
# minified build the pages load, not the 50 MB of other builds and source maps.
COPY --from=assets /assets/node_modules/echarts/dist/echarts.min.js /app/node_modules/echarts/dist/echarts.min.js
# collectstatic needs settings to import; the build-time key is never used at run time.
RUN SECRET_KEY=build-only ALLOWED_HOSTS=localhost python manage.py collectstatic --noinput \
 && mkdir -p /app/var/media && chown -R app:app /app/var

USER app
EXPOSE 8000
CMD ["gunicorn", "config.wsgi:application", "--config", "python:config.gunicorn"]
