FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

COPY pyproject.toml README.md ./
COPY threadline ./threadline
COPY organisations ./organisations
COPY accounts ./accounts
COPY contacts ./contacts
COPY conversations ./conversations
COPY mail ./mail
RUN pip install .
COPY . .
RUN SECRET_KEY=build-only-collectstatic DATABASE_URL=postgres://build@localhost/build \
    REDIS_URL=redis://localhost:6379/0 python manage.py collectstatic --no-input \
    && useradd --system --home /app threadline && chown -R threadline /app/var
USER threadline

EXPOSE 8000
CMD ["gunicorn", "threadline.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
