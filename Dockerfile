FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 DJANGO_SETTINGS_MODULE=custapproval.settings.production
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
RUN for po in locale/*/LC_MESSAGES/*.po; do python scripts/compile_messages.py "$po" "${po%.po}.mo"; done
# collectstatic needs settings to load; this throwaway key never reaches a running container.
RUN SECRET_KEY=build-only-build-only-build-only-build-only-build-only \
    python manage.py collectstatic --noinput
RUN useradd --create-home app && mkdir -p /app/media && chown app /app/media
USER app
EXPOSE 8000
CMD ["gunicorn", "custapproval.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "600"]
