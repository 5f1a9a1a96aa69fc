FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY crm crm
COPY customers customers
COPY credit credit
COPY complaints complaints
COPY analytics analytics
COPY audit audit
RUN pip install --no-cache-dir .
COPY . .
# Build-time placeholders only: collectstatic needs the production profile to start.
RUN DJANGO_ENV=production DJANGO_SECRET_KEY=build-only DJANGO_ALLOWED_HOSTS=build \
    FIELD_ENCRYPTION_KEYS=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= \
    BLIND_INDEX_KEY=AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE= \
    python manage.py collectstatic --noinput
RUN useradd --system crm && chown -R crm /app
USER crm
EXPOSE 8000
# docker/gunicorn.conf.py: bind, workers, and an access log without query strings or Referer.
CMD ["gunicorn", "--config", "docker/gunicorn.conf.py", "crm.wsgi:application"]
